#!/usr/bin/env node
// The `lambda-svid` bin: registers tsx's loader in this process and runs the
// TypeScript entry point, so `npx lambda-svid` works in a clone after `npm ci`
// with no build step (tsx is installed by `npm ci`).
import { register } from "tsx/esm/api";

register();
await import("../main.ts");
