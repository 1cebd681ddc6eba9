/**
 * Finds a Node/undici error code (`ECONNREFUSED`, `EADDRINUSE` …) anywhere in a
 * cause chain. Internal: not part of the package's entries.
 *
 * @internal
 */
export const errorCode = (error: unknown): string | undefined => {
  for (let current = error, depth = 0; typeof current === "object" && current !== null && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === "string") return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}
