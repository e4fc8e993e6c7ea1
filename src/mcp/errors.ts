import { ErrorCode, McpError } from './jsonrpc.js';

/**
 * Failures a stage of the gateway raises on purpose, each its own type so the edge's error catalogue
 * (edge/error-catalogue.ts) can give it an HTTP status and a JSON-RPC code in one place. They are
 * McpErrors, so any code that only knows McpError still answers precisely.
 */

/** The caller may not use this target (grants, allowed_tools / disallowed_tools). Kept on -32602, as before. */
export class PolicyDenied extends McpError {
  constructor(message: string, data?: unknown) {
    super(ErrorCode.InvalidParams, message, data);
    this.name = 'PolicyDenied';
  }
}

/** A rate or concurrency limit refused the request; retrying later may succeed. */
export class LimitExceeded extends McpError {
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
    data?: unknown,
  ) {
    super(ErrorCode.LimitExceeded, message, data);
    this.name = 'LimitExceeded';
  }
}

/** A spend budget is used up; retrying will not help until it is raised or reset. */
export class BudgetExceeded extends McpError {
  constructor(message: string, data?: unknown) {
    super(ErrorCode.BudgetExceeded, message, data);
    this.name = 'BudgetExceeded';
  }
}
