/**
 * The model's errors. An {@link AwsError} is what a modelled service answers
 * instead of a result: the handler turns it into the service's own error shape
 * (`__type` + `x-amzn-errortype` for JSON services, an XML `ErrorResponse` for
 * STS), which the real SDK client deserializes into its real exception class.
 * A {@link SimError} is the simulation itself going wrong (a request no model
 * knows, a virtual clock with nothing left to run while work is pending).
 */
import { LambdaSvidError } from "../../lib/errors/index.ts";

/** Why the simulation (not the code under test) failed. */
export const SimReason = {
  AWS_ERROR: "sim: the modelled service answered with an error",
  UNKNOWN_SERVICE: "sim: no model answers this request",
  UNKNOWN_OPERATION: "sim: the model does not implement this operation",
  STALLED: "sim: work is pending but the virtual clock has no timer left to run",
} as const;
export type SimReason = (typeof SimReason)[keyof typeof SimReason];

/**
 * A failure of the simulation, not of the code under test.
 *
 * @example
 * throw new SimError(SimReason.UNKNOWN_OPERATION, "SQS CreateQueue");
 */
export class SimError extends LambdaSvidError {
  declare readonly reason: SimReason;

  constructor(reason: SimReason, detail?: string) {
    super(reason, detail);
    this.name = "SimError";
  }
}

/** The HTTP status AWS answers a client error with; throttling is a client error too. */
const CLIENT_ERROR = 400;

/**
 * An AWS error answer: its code (`ResourceNotFoundException`), its message
 * (AWS's own wording where the product or a test reads it) and its status.
 *
 * @example
 * throw new AwsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
 */
export class AwsError extends LambdaSvidError {
  declare readonly reason: typeof SimReason.AWS_ERROR;

  constructor(
    readonly code: string,
    readonly awsMessage: string,
    readonly status = CLIENT_ERROR,
    /** Members the error carries beside its message (DynamoDB's `Item` on a failed condition). */
    readonly members: Readonly<Record<string, unknown>> = {},
  ) {
    super(SimReason.AWS_ERROR, code);
    this.name = "AwsError";
  }
}
