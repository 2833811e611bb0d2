/** Error codes of IVR-RPC.md ("Common error codes") and the error answers built from them. */
export const ErrorCode = {
  Internal: 1,
  BitrateTooHigh: 11,
  DuplicatePublish: 12,
  MethodNotSupported: 101,
  NoSuchChannel: 102,
  ChannelOffline: 103,
} as const;
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

const defaultMessages: Record<number, string> = {
  1: 'internal error',
  11: 'stream bitrate too high',
  12: 'duplicate publish request',
  101: 'RPC method not supported',
  102: 'channel does not exist',
  103: 'channel offline',
};

/** Thrown by an RPC handler to answer `{"seq", "err": {code, msg}}` instead of `resp`. */
export class RpcError extends Error {
  readonly code: number;
  constructor(code: number, message?: string) {
    super(message ?? defaultMessages[code] ?? `error ${code}`);
    this.name = 'RpcError';
    this.code = code;
  }
}

/** The peer answered a call of ours with an `err` packet. */
export class RpcErrorAnswer extends Error {
  readonly code: number;
  readonly method: string;
  constructor(method: string, code: number, msg: string) {
    super(`${method} answered error ${code}: ${msg}`);
    this.name = 'RpcErrorAnswer';
    this.code = code;
    this.method = method;
  }
}
