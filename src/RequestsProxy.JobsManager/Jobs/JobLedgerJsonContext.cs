using System.Text.Json;
using System.Text.Json.Serialization;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// Source-generated JSON of the ledger: compact (it counts against 1 MiB), camelCase, nulls kept
/// out. Unknown members are ignored rather than refused, so a ledger a newer minor version
/// wrote still loads; an unknown <c>version</c> is refused by <see cref="JobLedgerDocument.TryParse"/>.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(JobLedgerDocument))]
internal sealed partial class JobLedgerJsonContext : JsonSerializerContext;
