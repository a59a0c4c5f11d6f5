import { providerHeaders } from './provider-headers';

describe('providerHeaders', () => {
  const letterId = '6f1c2b9a-3d4e-4f5a-8b6c-7d8e9f0a1b2c';

  it('stamps the letter id where each provider echoes it in its events', () => {
    expect(providerHeaders('smtp', { letterId })).toEqual({});
    expect(providerHeaders('ses', { letterId })).toEqual({});
    expect(providerHeaders('sendgrid', { letterId })['X-SMTPAPI']).toEqual({ prepared: true, value: JSON.stringify({ unique_args: { mz_letter: letterId } }) });
    expect(providerHeaders('mailgun', { letterId })['X-Mailgun-Variables']).toEqual({ prepared: true, value: JSON.stringify({ mz_letter: letterId }) });
    expect(providerHeaders('postmark', { letterId })).toEqual({ 'X-PM-Metadata-letter': letterId });
  });

  it('names a sign-in mail by its token id', () => {
    expect(providerHeaders('mailgun', { loginTokenId: letterId })['X-Mailgun-Variables']).toEqual({ prepared: true, value: JSON.stringify({ mz_login_token: letterId }) });
    expect(providerHeaders('postmark', { loginTokenId: letterId })).toEqual({ 'X-PM-Metadata-login-token': letterId });
    expect(providerHeaders('ses', { loginTokenId: letterId })).toEqual({ 'X-MZ-Login-Token': letterId });
  });
});
