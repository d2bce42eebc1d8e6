using System.Buffers.Text;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.Tokens.Benchmarks;

/// <summary>
/// Where a cold verification's time goes: the HMAC, base64url, the JSON reader and the clock,
/// and the verifier stopped early at step 2 (after all parsing) and step 3.
/// </summary>
[MemoryDiagnoser]
public class CostBreakdownBenchmarks
{
    private string _token = "";
    private byte[] _signing = [];
    private SigningKey _key = null!;
    private byte[] _payload = [];
    private readonly byte[] _mac = new byte[32];
    private TokenVerifier _verifier = null!;
    private string _unknownKid = "";
    private string _badAlg = "";

    [GlobalSetup]
    public void Setup()
    {
        var ring = KeyRingLoader.Build("v1", new Dictionary<string, byte[]> { ["v1"] = Encoding.ASCII.GetBytes(KeyRingRules.GenerateKey()) });
        _key = ring.ActiveKey;
        var keys = new StaticKeyRingSource(ring);
        _token = new TokenIssuer(keys, TimeProvider.System).Mint(new TokenRequest("training-job-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")).Token;
        _signing = Encoding.ASCII.GetBytes(_token[.._token.LastIndexOf('.')]);
        _payload = Base64Url.DecodeFromChars(_token.Split('.')[1]);
        var parts = _token.Split('.');
        _unknownKid = Base64Url.EncodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"v9\"}"u8) + "." + parts[1] + "." + parts[2];
        _badAlg = Base64Url.EncodeToString("{\"alg\":\"HS512\",\"typ\":\"JWT\",\"kid\":\"v1\"}"u8) + "." + parts[1] + "." + parts[2];
        _verifier = new TokenVerifier(keys, StaticRevocationSource.None, new TokenValidationOptions(), TimeProvider.System);
    }

    [Benchmark]
    public void Hmac() => _key.Sign(_signing, _mac);

    [Benchmark]
    [SkipLocalsInit]
    public int Decode()
    {
        Span<byte> buffer = stackalloc byte[4096];
        return Base64Url.DecodeFromChars(_token.AsSpan(_token.IndexOf('.') + 1, _token.LastIndexOf('.') - _token.IndexOf('.') - 1), buffer);
    }

    [Benchmark]
    [SkipLocalsInit]
    public bool SignatureStep()
    {
        var dot2 = _token.LastIndexOf('.');
        Span<byte> signingInput = stackalloc byte[dot2];
        System.Text.Ascii.FromUtf16(_token.AsSpan(0, dot2), signingInput, out _);
        Span<byte> signature = stackalloc byte[32];
        Span<byte> expected = stackalloc byte[32];
        Base64Url.DecodeFromChars(_token.AsSpan(dot2 + 1), signature);
        _key.Sign(signingInput, expected);
        return System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(signature, expected);
    }

    [Benchmark]
    [SkipLocalsInit]
    public int ToAscii()
    {
        var dot2 = _token.LastIndexOf('.');
        Span<byte> signingInput = stackalloc byte[dot2];
        System.Text.Ascii.FromUtf16(_token.AsSpan(0, dot2), signingInput, out var n);
        return n;
    }

    [Benchmark]
    [SkipLocalsInit]
    public int DecodeSignature()
    {
        Span<byte> signature = stackalloc byte[32];
        return Base64Url.DecodeFromChars(_token.AsSpan(_token.LastIndexOf('.') + 1), signature);
    }

    [Benchmark]
    public int ReadJson()
    {
        var reader = new Utf8JsonReader(_payload);
        var n = 0;
        while (reader.Read())
        {
            n++;
        }

        return n;
    }

    [Benchmark]
    public DateTimeOffset Now() => TimeProvider.System.GetUtcNow();

    [Benchmark]
    [SkipLocalsInit]
    public TokenFailure UntilAlg()
    {
        Span<byte> workspace = stackalloc byte[TokenVerifier.WorkspaceSize];
        return _verifier.Verify(_badAlg, workspace, out _);
    }

    [Benchmark]
    [SkipLocalsInit]
    public TokenFailure UntilKid()
    {
        Span<byte> workspace = stackalloc byte[TokenVerifier.WorkspaceSize];
        return _verifier.Verify(_unknownKid, workspace, out _);
    }

    [Benchmark]
    [SkipLocalsInit]
    public TokenFailure AllSteps()
    {
        Span<byte> workspace = stackalloc byte[TokenVerifier.WorkspaceSize];
        return _verifier.Verify(_token, workspace, out _);
    }
}
