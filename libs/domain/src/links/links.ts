/** Public URLs of the web app that letters and transactional mail link to. */
export const links = {
  login: (baseUrl: string, token: string) => `${baseUrl}/login/${token}`,
  unsubscribe: (baseUrl: string, token: string) => `${baseUrl}/u/${token}`,
  settings: (baseUrl: string) => `${baseUrl}/settings`,
  /** RFC 2369 mailto unsubscribe: the subscription's signed `u+…@REPLY_DOMAIN` address (see mail-address.ts). */
  unsubscribeMailto: (address: string) => `mailto:${address}?subject=unsubscribe`,
};
