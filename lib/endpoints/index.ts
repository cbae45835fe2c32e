/**
 * An AWS client's endpoint, resolved once by the SDK's own rules and then given
 * to the clients built after it as a fixed `endpoint`. A client without one
 * looks for a configured endpoint (`AWS_ENDPOINT_URL_<SERVICE>`,
 * `AWS_ENDPOINT_URL`, the shared config files) when it is built, or, in the
 * pinned `@aws-sdk/client-acm-pca` 3.523, on every call: a few tenths of a
 * millisecond of CPU, most of it errors thrown and caught by the providers
 * that find nothing. The resolution is the SDK's, from the client's own
 * settings, so the result is the endpoint that client would have used.
 */
import { getEndpointFromInstructions } from "@smithy/core/endpoints";
import type { EndpointParameterInstructions, Provider } from "@smithy/types";

/** What the resolution reads from a client's resolved configuration. */
export interface EndpointSettings {
  isCustomEndpoint?: boolean;
  useFipsEndpoint: Provider<boolean>;
  useDualstackEndpoint: Provider<boolean>;
}

/** A command class: it names the endpoint parameters its operation takes. */
export interface EndpointCommand {
  getEndpointParameterInstructions(): EndpointParameterInstructions;
}

/**
 * The URL `config`'s client sends `command` to, or `undefined` when the
 * client asks for FIPS or dual-stack endpoints: the endpoint rules refuse a
 * fixed endpoint beside those, so such clients keep resolving their own.
 *
 * @example
 * const endpoint = await fixedEndpoint(template.config, DescribeSecretCommand);
 * const client = new SecretsManagerClient({ ...settings, ...(endpoint ? { endpoint } : {}) });
 */
export async function fixedEndpoint(
  config: EndpointSettings,
  command: EndpointCommand,
): Promise<string | undefined> {
  if (
    config.isCustomEndpoint !== true &&
    ((await config.useFipsEndpoint()) || (await config.useDualstackEndpoint()))
  )
    return undefined;
  // A copy: the resolution records a configured endpoint on the configuration it is given.
  const endpoint = await getEndpointFromInstructions({}, command, { ...config });
  return endpoint.url.href;
}
