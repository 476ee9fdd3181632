/**
 * The CLI's one error type: bad arguments or unreadable input files, reported as a usage message (exit code 2).
 *
 * @packageDocumentation
 */
import type { ErrorCode } from '../runtime/validate';

/** A command-line usage or input-file error (code ERR_LENGTHWISE_USAGE). */
export class UsageError extends Error {
  readonly code: ErrorCode = 'ERR_LENGTHWISE_USAGE';
}
