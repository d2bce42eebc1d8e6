using System.Text.Json.Nodes;

namespace RequestsProxy.Testing.FakeKubernetes;

/// <summary>Builds <c>meta/v1 Status</c> bodies exactly as the API server shapes them.</summary>
internal static class FakeKubernetesStatus
{
    public static JsonObject Failure(FakeKubernetesException error)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = error.Message,
            ["reason"] = error.Reason,
        };
        if (error.Type is not null)
        {
            var details = new JsonObject();
            if (error.Name is not null)
            {
                details["name"] = error.Name;
            }

            if (error.Type.Group.Length > 0)
            {
                details["group"] = error.Type.Group;
            }

            details["kind"] = error.Type.Plural;
            status["details"] = details;
        }

        status["code"] = (int)error.Code;
        return status;
    }

    public static JsonObject Success(FakeResourceType type, string name, string? uid)
    {
        var details = new JsonObject { ["name"] = name };
        if (type.Group.Length > 0)
        {
            details["group"] = type.Group;
        }

        details["kind"] = type.Plural;
        if (uid is not null)
        {
            details["uid"] = uid;
        }

        return new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["details"] = details,
        };
    }
}
