using System.Net.Http.Headers;

namespace RequestsProxy.Client;

/// <summary>
/// The innermost step, once per attempt: puts the token read just now into Authorization, counts
/// the attempt, and reads the whole answer so a proxy that dies mid-answer is a retried error
/// here rather than a failure after the retries are over.
/// </summary>
internal sealed class TokenFileHandler(TokenSource tokens) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await tokens.ReadAsync(cancellationToken).ConfigureAwait(false));
        request.Options.TryGetValue(RequestsProxyHandler.AttemptsOption, out var attempts);
        request.Options.Set(RequestsProxyHandler.AttemptsOption, attempts + 1);

        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        try
        {
            await response.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            response.Dispose();
            throw;
        }

        return response;
    }
}
