/** Public URLs of the web app that letters and transactional mail link to. */
export const links = {
  login: (baseUrl: string, token: string) => `${baseUrl}/login/${token}`,
  unsubscribe: (baseUrl: string, token: string) => `${baseUrl}/u/${token}`,
  settings: (baseUrl: string) => `${baseUrl}/settings`,
  /** RFC 2369 mailto unsubscribe on the reply domain. */
  unsubscribeMailto: (replyDomain: string, token: string) => `mailto:unsubscribe@${replyDomain}?subject=unsubscribe%20${token}`,
};
