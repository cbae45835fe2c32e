/**
 * The ingress's own SVID, which it presents to callers and whose bundle it
 * verifies them with: from files as a SPIFFE helper writes them (chain,
 * key, bundle; re-read on an interval), or from Secrets Manager through the
 * layer's {@link SvidSource}. A rotation is handed to the server, which swaps
 * its TLS context without dropping live connections.
 */
import { readFile } from "node:fs/promises";
import {
  parseX509Svid,
  SpiffeError,
  verifyX509Svid,
  X509Bundle,
  type X509BundleSource,
  type X509Svid,
} from "../layers/spiffe/index.ts";
import {
  SvidSource,
  type SvidSourceError,
  type SvidSourceOptions,
} from "../layers/svid-secret/index.ts";
import { IngressSvidError, IngressSvidReason } from "./errors.ts";

/** What the TLS server needs: the SVID it presents and the bundles it verifies callers against. */
export interface ServerIdentity {
  svid: X509Svid;
  bundles: X509BundleSource;
}

/** Where the ingress's SVID comes from; both sources below implement it. */
export interface ServerSvidSource {
  /**
   * Reads and verifies the SVID now.
   *
   * @throws {IngressSvidError | SvidSourceError} when there is no valid, unexpired SVID.
   */
  load(): Promise<ServerIdentity>;
  /**
   * Re-reads in the background from now on: `onRotate` gets each SVID whose
   * leaf differs from the last one, `onError` each failed re-read (the held
   * SVID stays in use).
   */
  watch(onRotate: (identity: ServerIdentity) => void, onError: (err: Error) => void): void;
  /** Stops re-reading. */
  close(): void;
}

/** Paths of the PEM files a SPIFFE helper writes, and how often to re-read them. */
export interface FileSvidOptions {
  /** The SVID chain, leaf first (spiffe-helper's `svid_file_name`). */
  certFile: string;
  /** The leaf's PKCS#8 key (`svid_key_file_name`). */
  keyFile: string;
  /** The roots of the SVID's own trust domain (`svid_bundle_file_name`). */
  bundleFile: string;
  /** Default 5 s. */
  pollIntervalMs?: number;
  now?: () => Date;
}

/**
 * The SVID from PEM files, re-read every `pollIntervalMs`. A helper writes
 * the files one after the other, so a read may catch a new chain with the old
 * key: that read fails the key check, the held SVID stays, and the next read
 * gets the matching pair. Content that fails twice in a row is reported,
 * once.
 *
 * @example
 * const source = new FileSvidSource({ certFile: "/run/spiffe/svid.pem", keyFile: "/run/spiffe/svid_key.pem", bundleFile: "/run/spiffe/svid_bundle.pem" });
 * const { svid } = await source.load();
 */
export class FileSvidSource implements ServerSvidSource {
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private lastFiles = "";
  private lastLeaf = "";
  /** Content that failed to parse once; {@link reported} once it failed twice. */
  private unsettled = "";
  private reported = "";

  constructor(private readonly options: FileSvidOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async load(): Promise<ServerIdentity> {
    const files = await this.readFiles();
    const identity = this.parse(files);
    this.lastFiles = files.join("");
    this.lastLeaf = identity.svid.leaf.x509.fingerprint256;
    return identity;
  }

  watch(onRotate: (identity: ServerIdentity) => void, onError: (err: Error) => void): void {
    let polling = false;
    const poll = async () => {
      if (polling) return;
      polling = true;
      try {
        await this.poll(onRotate, onError);
      } finally {
        polling = false;
      }
    };
    this.timer = setInterval(() => void poll(), this.options.pollIntervalMs ?? 5_000);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async poll(
    onRotate: (identity: ServerIdentity) => void,
    onError: (err: Error) => void,
  ): Promise<void> {
    let files: [string, string, string];
    try {
      files = await this.readFiles();
    } catch (err) {
      onError(err as Error);
      return;
    }
    const text = files.join("");
    if (text === this.lastFiles) return;
    let identity: ServerIdentity;
    try {
      identity = this.parse(files);
    } catch (err) {
      // A read between two of the helper's writes fails; the next read of the
      // same content decides, and each bad content is reported once.
      if (text === this.unsettled && text !== this.reported) {
        this.reported = text;
        onError(err as Error);
      }
      this.unsettled = text;
      return;
    }
    this.lastFiles = text;
    if (identity.svid.leaf.x509.fingerprint256 === this.lastLeaf) return;
    this.lastLeaf = identity.svid.leaf.x509.fingerprint256;
    onRotate(identity);
  }

  private readFiles(): Promise<[string, string, string]> {
    const { certFile, keyFile, bundleFile } = this.options;
    return Promise.all([read(certFile), read(keyFile), read(bundleFile)]);
  }

  private parse([chainPem, keyPem, bundlePem]: [string, string, string]): ServerIdentity {
    let svid: X509Svid;
    let bundle: X509Bundle;
    try {
      svid = parseX509Svid(chainPem, keyPem);
      bundle = X509Bundle.fromPem(svid.id.trustDomain, bundlePem);
    } catch (cause) {
      if (!(cause instanceof SpiffeError)) throw cause;
      throw new IngressSvidError(IngressSvidReason.FILES_INVALID, undefined, { cause });
    }
    try {
      verifyX509Svid(svid.chainPem(), bundle, { now: this.now(), usage: "server" });
    } catch (cause) {
      throw new IngressSvidError(IngressSvidReason.NOT_VERIFIED, svid.id.toString(), { cause });
    }
    return { svid, bundles: bundle };
  }
}

async function read(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (cause) {
    throw new IngressSvidError(IngressSvidReason.FILE_UNREADABLE, JSON.stringify(path), {
      cause,
    });
  }
}

/** Options of the Secrets Manager source: the layer's reader options, and how often to apply its freshness rules. */
export interface SecretSvidOptions extends Omit<SvidSourceOptions, "onRotate" | "onRefreshError"> {
  /** How often the freshness rules are applied; default 30 s. */
  checkIntervalMs?: number;
}

/**
 * The SVID from the account's Secrets Manager secret, read as the layer's
 * agent reads it ({@link SvidSource}: verified against its own bundle, re-read
 * by the freshness rules), with its federated bundles for callers.
 *
 * @example
 * const source = new SecretSvidSource({ secretName: "lambda-svid/svid" });
 * const { svid, bundles } = await source.load();
 */
export class SecretSvidSource implements ServerSvidSource {
  private readonly source: SvidSource;
  private onRotate: (identity: ServerIdentity) => void = () => {};
  private onError: (err: Error) => void = () => {};
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SecretSvidOptions = {}) {
    this.source = new SvidSource({
      ...options,
      onRotate: (held) => this.onRotate({ svid: held.svid, bundles: held.bundles }),
      onRefreshError: (err: SvidSourceError) => this.onError(err),
    });
  }

  async load(): Promise<ServerIdentity> {
    const held = await this.source.read();
    return { svid: held.svid, bundles: held.bundles };
  }

  watch(onRotate: (identity: ServerIdentity) => void, onError: (err: Error) => void): void {
    this.onRotate = onRotate;
    this.onError = onError;
    this.timer = setInterval(
      () => void this.source.maintain(),
      this.options.checkIntervalMs ?? 30_000,
    );
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }
}
