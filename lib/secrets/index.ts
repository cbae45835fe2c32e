/**
 * Secrets Manager plumbing that the parts share: deterministic and keyed
 * ClientRequestTokens, a keyed digest for tags, tag lists as maps, and the one
 * writer of a secret a part owns (create, or restore, put and tag).
 *
 * Knows no product part: imports Node and the AWS SDK only, nothing from
 * functions/, layers/ or cli/. Which tags a part writes and
 * what its owner tag says stay with that part.
 *
 * @example
 * import { clientRequestToken, OWNER_TAG, tagMap } from "../../lib/secrets/index.ts";
 * const token = clientRequestToken(spiffeId, serialNumber);
 * const owner = tagMap(described.Tags)[OWNER_TAG];
 *
 * @module
 */

export {
  OWNER_TAG,
  type OwnedSecretOptions,
  type OwnedSecretState,
  type OwnedSecretWrite,
  type SecretTag,
  type SecretValue,
  type WrittenSecret,
  writeOwnedSecret,
} from "./owned.ts";
export {
  ContentKey,
  ContentKeyError,
  ContentKeyReason,
  clientRequestToken,
  digest,
  tagMap,
} from "./tokens.ts";
