namespace RequestsProxy.Client;

/// <summary>The pod's environment does not say where the proxy or the token is, or the token file cannot be read.</summary>
public sealed class RequestsProxyConfigurationException : InvalidOperationException
{
    public RequestsProxyConfigurationException()
    {
    }

    public RequestsProxyConfigurationException(string message)
        : base(message)
    {
    }

    public RequestsProxyConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
