/** `npm run emulator:stop`: ends the background emulator `npm start` left running. */
import { stopLocalEmulator } from "./local-emulator.ts";

console.log(
  (await stopLocalEmulator()) ? "local emulator stopped" : "no local emulator was running",
);
