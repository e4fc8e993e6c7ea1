import type { IncomingHttpHeaders } from 'node:http';
import { ErrorCode, isObject, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import { decodeHeaderValue, envelope, META, MODERN_METHODS, nameField } from '../mcp/modern.js';
import { LEGACY_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS } from '../mcp/versions.js';
import { headerValue } from './http-util.js';

export interface LadderRejection {
  status: number;
  code: number;
  message: string;
  data?: unknown;
}

/**
 * The 2026-07-28 validation ladder for one request, in the spec's order: version header against the
 * body's envelope, supported version, Mcp-Method, Mcp-Name, the required envelope keys, a known
 * method. Routing and authorisation then use the validated body only, never the headers.
 */
export function checkModernRequest(req: JsonRpcRequest, headers: IncomingHttpHeaders): LadderRejection | undefined {
  const meta = envelope(req);
  const bodyVersion = meta[META.protocolVersion];
  if (typeof bodyVersion !== 'string') {
    return { status: 400, code: ErrorCode.InvalidParams, message: `Invalid params: _meta["${META.protocolVersion}"] is required` };
  }
  const headerVersion = headerValue(headers['mcp-protocol-version']);
  if (headerVersion === undefined || headerVersion !== bodyVersion) {
    return mismatch(
      headerVersion === undefined
        ? 'the MCP-Protocol-Version header is required'
        : `MCP-Protocol-Version header ${JSON.stringify(headerVersion)} does not match the body envelope version ${JSON.stringify(bodyVersion)}`,
    );
  }
  if (!(MODERN_PROTOCOL_VERSIONS as readonly string[]).includes(bodyVersion)) {
    return {
      status: 400,
      code: ErrorCode.UnsupportedProtocolVersion,
      message: `Unsupported protocol version ${JSON.stringify(bodyVersion)}`,
      data: { supported: [...MODERN_PROTOCOL_VERSIONS, ...LEGACY_PROTOCOL_VERSIONS], requested: bodyVersion },
    };
  }
  const method = headerValue(headers['mcp-method']);
  if (method === undefined || decodeHeaderValue(method) !== req.method) {
    return mismatch(
      method === undefined
        ? 'the Mcp-Method header is required'
        : `Mcp-Method header does not match the body method ${JSON.stringify(req.method)}`,
    );
  }
  const field = nameField(req.method);
  if (field) {
    const name = headerValue(headers['mcp-name']);
    const bodyValue = isObject(req.params) ? req.params[field] : undefined;
    if (name === undefined) return mismatch(`the Mcp-Name header is required for ${req.method}`);
    if (decodeHeaderValue(name) !== bodyValue) return mismatch(`Mcp-Name header does not match params.${field}`);
  }
  if (!isObject(meta[META.clientCapabilities])) {
    return { status: 400, code: ErrorCode.InvalidParams, message: `Invalid params: _meta["${META.clientCapabilities}"] is required` };
  }
  if (!MODERN_METHODS.has(req.method)) {
    return { status: 404, code: ErrorCode.MethodNotFound, message: `Method not found: ${req.method}` };
  }
  return undefined;
}

function mismatch(message: string): LadderRejection {
  return { status: 400, code: ErrorCode.HeaderMismatch, message: `Header mismatch: ${message}` };
}
