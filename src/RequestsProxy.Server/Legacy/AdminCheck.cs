namespace RequestsProxy.Server.Legacy;

internal enum AdminCheck
{
    Allowed,
    Refused,
    NotConfigured,
}
