/**
 * Secrets Manager plumbing that the parts share: deterministic and keyed
 * ClientRequestTokens, a keyed digest for tags, and tag lists as maps.
 *
 * Knows no product part: imports Node and the AWS SDK only, nothing from
 * functions/, layers/ or cli/. Which tags a part writes and
 * what its owner tag says stay with that part.
 *
 * @example
 * import { clientRequestToken, tagMap } from "../../lib/secrets/index.ts";
 * const token = clientRequestToken(spiffeId, serialNumber);
 * const owner = tagMap(described.Tags)["lambda-svid:owner"];
 *
 * @module
 */
export {
  ContentKey,
  ContentKeyError,
  clientRequestToken,
  digest,
  tagMap,
} from "./tokens.ts";
