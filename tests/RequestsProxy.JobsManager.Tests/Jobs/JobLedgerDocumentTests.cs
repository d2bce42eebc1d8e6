using System.Text;
using RequestsProxy.JobsManager.Jobs;

namespace RequestsProxy.JobsManager.Tests.Jobs;

public sealed class JobLedgerDocumentTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Serialize_RoundTrip_KeepsEveryFieldAndNoToken()
    {
        var document = JobLedgerDocument.Empty.With(Entry("job-1", ("a", 3600), ("b", 7200)) with { CurrentJti = "b", TokensIssued = 2 });

        var bytes = document.Serialize();

        Assert.True(JobLedgerDocument.TryParse(bytes, out var parsed, out var error), error);
        var entry = Assert.Single(parsed.Jobs);
        Assert.Equal(("job-1", "b", 2, "trainer:1"), (entry.Name, entry.CurrentJti, entry.TokensIssued, entry.Image));
        Assert.Equal(["python", "train.py"], entry.Command);
        Assert.Equal([("a", "job-1", "v1"), ("b", "job-1", "v1")], entry.Tokens.Select(t => (t.Jti, t.Sub, t.Kid!)));
        Assert.Equal(Now.ToUnixTimeSeconds() + 7200, entry.Tokens[1].Exp);
        Assert.StartsWith("{\"version\":1,\"jobs\":[", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void WithAndWithout_ReplaceByNameAndRemove_UnchangedIsSameInstance()
    {
        var document = JobLedgerDocument.Empty.With(Entry("job-1", ("a", 60))).With(Entry("job-2", ("b", 60)));

        var replaced = document.With(Entry("job-1", ("c", 60)));

        Assert.Equal(["job-1", "job-2"], replaced.Jobs.Select(j => j.Name));
        Assert.Equal("c", replaced.Find("job-1")!.Tokens.Single().Jti);
        Assert.Equal(["job-2"], replaced.Without("job-1").Jobs.Select(j => j.Name));
        Assert.Same(replaced, replaced.Without("job-9"));
    }

    [Fact]
    public void WithoutExpiredTokens_PastExpPlusLeeway_DroppedJobKept()
    {
        var document = JobLedgerDocument.Empty.With(Entry("job-1", ("old", 60), ("new", 3600)));

        var pruned = document.WithoutExpiredTokens(Now + TimeSpan.FromSeconds(91), TimeSpan.FromSeconds(30), out var removed);

        Assert.Equal(1, removed);
        Assert.Equal(["new"], pruned.Find("job-1")!.Tokens.Select(t => t.Jti));
        Assert.Same(pruned, pruned.WithoutExpiredTokens(Now + TimeSpan.FromSeconds(91), TimeSpan.FromSeconds(30), out var none));
        Assert.Equal(0, none);
        Assert.Same(document, document.WithoutExpiredTokens(Now + TimeSpan.FromSeconds(89), TimeSpan.FromSeconds(30), out _));
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("  \n", true)]
    [InlineData("{\"version\":1,\"jobs\":[]}", true)]
    [InlineData("{not json", false)]
    [InlineData("[]", false)]
    [InlineData("{\"version\":2,\"jobs\":[]}", false)]
    [InlineData("{\"version\":1}", false)]
    [InlineData("{\"version\":1,\"jobs\":[{\"name\":\"a\",\"scope\":\"s\",\"tokens\":[]},{\"name\":\"a\",\"scope\":\"s\",\"tokens\":[]}]}", false)]
    [InlineData("{\"version\":1,\"jobs\":[{\"name\":\"a\",\"scope\":\"s\",\"tokens\":[{\"sub\":\"a\",\"iat\":1}]}]}", false)]
    [InlineData("{\"version\":1,\"jobs\":[{\"name\":\"a\",\"scope\":\"s\",\"tokens\":[],\"future\":true}]}", true)]
    public void TryParse_Content_AcceptedOrRefused(string json, bool accepted)
    {
        var ok = JobLedgerDocument.TryParse(Encoding.UTF8.GetBytes(json), out var document, out var error);

        Assert.Equal(accepted, ok);
        Assert.Equal(accepted, error.Length == 0);
        Assert.All(document.Jobs, j => Assert.NotNull(j.Command));
    }

    private static JobLedgerEntry Entry(string name, params (string Jti, int Seconds)[] tokens) =>
        new(name, Now, "trainer:1", ["python", "train.py"], [], "results:write", tokens.Length, null, false,
            [.. tokens.Select(t => new JobLedgerToken(t.Jti, "v1", name, Now.ToUnixTimeSeconds(), Now.ToUnixTimeSeconds() + t.Seconds))]);
}
