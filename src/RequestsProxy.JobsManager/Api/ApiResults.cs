using RequestsProxy.JobsApi;

namespace RequestsProxy.JobsManager.Api;

/// <summary>JSON results with the source-generated context (no reflection).</summary>
internal static class ApiResults
{
    public static IResult Error(int status, string code, string message) =>
        Results.Json(new ErrorResponse(code, message), JobsJsonContext.Default.ErrorResponse, statusCode: status);

    public static IResult Json<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, int status = StatusCodes.Status200OK) =>
        Results.Json(value, type, statusCode: status);
}
