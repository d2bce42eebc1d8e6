namespace RequestsProxy.Server.Legacy;

/// <summary>How an admin request proved it comes from the jobs-manager.</summary>
internal enum AdminCaller
{
    /// <summary>A signed request (this version's jobs-manager): the admin token never travelled.</summary>
    Signed,

    /// <summary>The admin token as a bearer token: a jobs-manager older than signed requests (the compatibility path).</summary>
    Bearer,
}
