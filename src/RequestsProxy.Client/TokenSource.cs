namespace RequestsProxy.Client;

/// <summary>The pod's token, read fresh for every attempt (the file changes on refresh and rotation).</summary>
internal sealed class TokenSource
{
    private readonly string? _file;
    private readonly string? _fixed;

    public TokenSource(RequestsProxyClientOptions options)
    {
        _file = NonEmpty(options.TokenFile) ?? NonEmpty(Environment.GetEnvironmentVariable(RequestsProxyEnvironment.TokenFile));
        _fixed = NonEmpty(options.Token) ?? NonEmpty(Environment.GetEnvironmentVariable(RequestsProxyEnvironment.Token));
        if (_file is null && _fixed is null)
        {
            throw new RequestsProxyConfigurationException(
                $"neither {RequestsProxyEnvironment.TokenFile} nor {RequestsProxyEnvironment.Token} is set (nor a token file or token in the options)");
        }
    }

    /// <summary>The token file in use, or null for a fixed token.</summary>
    public string? File => _file;

    /// <exception cref="RequestsProxyConfigurationException">The file is missing, unreadable or empty.</exception>
    public async ValueTask<string> ReadAsync(CancellationToken cancellationToken)
    {
        if (_file is null)
        {
            return _fixed!;
        }

        string text;
        try
        {
            text = await System.IO.File.ReadAllTextAsync(_file, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RequestsProxyConfigurationException($"cannot read the token file {_file}: {e.Message}", e);
        }

        var token = text.Trim();
        return token.Length > 0 ? token : throw new RequestsProxyConfigurationException($"the token file {_file} is empty");
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
