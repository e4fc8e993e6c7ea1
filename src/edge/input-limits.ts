/** Bounds on what one client may send or leave unread (toolgate_settings; see README). */
export interface InputLimits {
  /** Largest accepted request body (max_body_bytes). */
  maxBodyBytes: number;
  /** Deepest accepted JSON nesting in a request body (max_json_depth). */
  maxJsonDepth: number;
  /** Most messages in one JSON-RPC batch (max_batch_size). */
  maxBatchSize: number;
  /** Bytes a stream may hold unread by its client before it is closed (stream_buffer_bytes). */
  streamBufferBytes: number;
}
