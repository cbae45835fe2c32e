/**
 * The three ways both functions are invoked: the EventBridge schedule, a
 * manual EventBridge event with a given `detail-type`, or a direct invoke
 * naming an `action`. Each function supplies the schema of its manual request.
 *
 * Plumbing that knows no product part: imports zod only, nothing from
 * functions/, layers/ or cli/.
 *
 * @module
 */
import { z } from "zod";

const scheduled = z.object({
  source: z.literal("aws.events"),
  "detail-type": z.literal("Scheduled Event"),
});

export interface InvocationShapes<T extends z.ZodRawShape> {
  /** `detail-type` of the manual EventBridge event, e.g. `lambda-svid.reissue`. */
  detailType: string;
  /** `action` of the direct invoke, e.g. `reissue`. */
  action: string;
  /** Fields of the manual request; unknown fields are refused. */
  request: T;
}

/**
 * `undefined` for the scheduled event, the validated request for a manual one.
 *
 * @param fail makes the caller's own error from a message that says what was
 *   expected and, field by field, what was wrong.
 */
export function parseInvocation<T extends z.ZodRawShape>(
  event: unknown,
  shapes: InvocationShapes<T>,
  fail: (message: string) => Error,
): z.infer<z.ZodObject<T>> | undefined {
  if (scheduled.safeParse(event).success) return undefined;
  const request = z.object(shapes.request).strict();
  const o =
    typeof event === "object" && event !== null ? (event as Record<string, unknown>) : undefined;
  const schema =
    o?.["detail-type"] === shapes.detailType
      ? z.object({
          "detail-type": z.literal(shapes.detailType),
          source: z.string().min(1),
          detail: request,
        })
      : o !== undefined && "action" in o
        ? request.extend({ action: z.literal(shapes.action) }).strict()
        : undefined;
  const expected = `expected an EventBridge "Scheduled Event", an EventBridge "${shapes.detailType}" event, or {"action": "${shapes.action}", ...}`;
  if (schema === undefined) throw fail(`event: ${expected}; got an event of another shape`);
  const parsed = schema.safeParse(event);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => `${i.path.join(".") || "(event)"}: ${i.message}`)
      .join("; ");
    throw fail(`event: ${expected}; ${issues}`);
  }
  const data = parsed.data as Record<string, unknown>;
  const { action: _action, ...fields } =
    "detail" in data ? (data.detail as Record<string, unknown>) : data;
  return fields as z.infer<z.ZodObject<T>>;
}
