// RTMP message types and the chunk stream ids this project uses (RTMP spec 1.0, sections 5.4 and 7).

export const MSG_SET_CHUNK_SIZE = 1;
export const MSG_ABORT = 2;
export const MSG_ACK = 3;
export const MSG_USER_CONTROL = 4;
export const MSG_WINDOW_ACK_SIZE = 5;
export const MSG_SET_PEER_BANDWIDTH = 6;
export const MSG_AUDIO = 8;
export const MSG_VIDEO = 9;
export const MSG_DATA_AMF0 = 18;
export const MSG_COMMAND_AMF0 = 20;

export const USER_CONTROL_STREAM_BEGIN = 0;
export const USER_CONTROL_PING_REQUEST = 6;
export const USER_CONTROL_PING_RESPONSE = 7;

/** Protocol control messages must travel on chunk stream 2, message stream 0. */
export const CSID_PROTOCOL = 2;
export const CSID_COMMAND = 3;
// Audio and video get their own chunk streams so each can use delta (fmt 1) headers.
export const CSID_AUDIO = 4;
export const CSID_DATA = 5;
export const CSID_VIDEO = 6;
export const CSID_STREAM_COMMAND = 8;

/** Largest chunk size the spec allows (31 bits). */
export const MAX_CHUNK_SIZE = 0x7fffffff;
