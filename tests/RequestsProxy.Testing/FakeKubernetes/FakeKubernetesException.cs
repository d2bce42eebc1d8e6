using System.Net;

namespace RequestsProxy.Testing.FakeKubernetes;

/// <summary>A failed API call; becomes a <c>Status</c> response with the same reason and code.</summary>
internal sealed class FakeKubernetesException : Exception
{
    public FakeKubernetesException()
    {
        Reason = "InternalError";
    }

    public FakeKubernetesException(string message)
        : base(message)
    {
        Reason = "InternalError";
    }

    public FakeKubernetesException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = "InternalError";
    }

    public FakeKubernetesException(HttpStatusCode code, string reason, string message, FakeResourceType? type = null, string? name = null)
        : base(message)
    {
        Code = code;
        Reason = reason;
        Type = type;
        Name = name;
    }

    public HttpStatusCode Code { get; } = HttpStatusCode.InternalServerError;

    public string Reason { get; }

    public FakeResourceType? Type { get; }

    public string? Name { get; }

    public static FakeKubernetesException NotFound(FakeResourceType type, string name) =>
        new(HttpStatusCode.NotFound, "NotFound", $"{type.QualifiedResource} \"{name}\" not found", type, name);

    public static FakeKubernetesException AlreadyExists(FakeResourceType type, string name) =>
        new(HttpStatusCode.Conflict, "AlreadyExists", $"{type.QualifiedResource} \"{name}\" already exists", type, name);

    public static FakeKubernetesException Conflict(FakeResourceType type, string name, string detail) =>
        new(HttpStatusCode.Conflict, "Conflict", $"Operation cannot be fulfilled on {type.QualifiedResource} \"{name}\": {detail}", type, name);

    public static FakeKubernetesException BadRequest(string message) =>
        new(HttpStatusCode.BadRequest, "BadRequest", message);
}
