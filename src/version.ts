/** The gateway's own version, as reported in serverInfo and by `toolgate --version`. */
export const TOOLGATE_VERSION = '0.1.0';
