/** One decoded PEM block. */
export interface PemBlock {
  type: string;
  der: Buffer;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/=\s]*$/;

/**
 * Decodes every PEM block in `text`, in order. Text between blocks (such as
 * `openssl` "Bag Attributes" lines) is ignored, as PEM readers commonly do.
 * Returns `undefined` for a block whose body is not base64.
 */
export function decodePem(text: string): Array<PemBlock | { type: string; der: undefined }> {
  const blocks: Array<PemBlock | { type: string; der: undefined }> = [];
  for (const match of text.matchAll(BLOCK)) {
    const type = match[1] as string;
    const body = match[2] as string;
    blocks.push({ type, der: BASE64_BODY.test(body) ? Buffer.from(body, "base64") : undefined });
  }
  return blocks;
}

/** Encodes DER as a PEM block with 64-character lines. */
export function encodePem(type: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join("\n")}\n-----END ${type}-----\n`;
}
