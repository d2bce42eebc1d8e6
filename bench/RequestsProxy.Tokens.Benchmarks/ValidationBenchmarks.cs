using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.Tokens.Benchmarks;

/// <summary>
/// One token, one key, in one run: our cold verification (every check, no cache), our warm
/// validation (through the verified-token cache), JsonWebTokenHandler with lifetime, audience
/// and issuer checks, and the floor: a reused HMACSHA256 over the same signing input alone.
/// </summary>
[MemoryDiagnoser]
public class ValidationBenchmarks
{
    /// <summary>The signing input length the probe measured with.</summary>
    public const int SigningInputLength = 408;

    private static readonly byte[] Key = Encoding.ASCII.GetBytes(KeyRingRules.GenerateKey());

    private string _token = "";
    private string[] _unseenHeaders = [];
    private string _forged = "";
    private string _stuffed = "";
    private int _next;
    private byte[] _signingInput = [];
    private readonly byte[] _mac = new byte[32];
    private TokenVerifier _verifier = null!;
    private TokenValidator _warm = null!;
    private TokenValidator _uncached = null!;
    private TokenIssuer _issuer = null!;
    private HMACSHA256 _hmac = null!;
    private JsonWebTokenHandler _handler = null!;
    private TokenValidationParameters _parameters = null!;

    [GlobalSetup]
    public void Setup()
    {
        var ring = KeyRingLoader.Build("v1", new Dictionary<string, byte[]> { ["v1"] = Key });
        var keys = new StaticKeyRingSource(ring);
        var revocations = new StaticRevocationSource(new RevocationList(Enumerable.Range(0, 1000).Select(i => new RevocationEntry($"revoked-{i}", 2_000_000_000)).ToList()));
        _issuer = new TokenIssuer(keys, TimeProvider.System);

        // Pad the subject until the signing input has the probe's length.
        for (var pad = 0; ; pad++)
        {
            _token = _issuer.Mint(new TokenRequest("training-job-" + new string('x', pad)) { Lifetime = TimeSpan.FromDays(90) }).Token;
            var signingLength = _token.LastIndexOf('.');
            if (signingLength >= SigningInputLength)
            {
                break;
            }
        }

        // Five spellings of the same header: more than the verifier remembers, so every call parses its header anew.
        var payload = _token.Split('.')[1];
        _unseenHeaders = new[]
        {
            "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"v1\"}", "{\"kid\":\"v1\",\"alg\":\"HS256\",\"typ\":\"JWT\"}",
            "{\"typ\":\"JWT\",\"kid\":\"v1\",\"alg\":\"HS256\"}", "{\"alg\":\"HS256\",\"kid\":\"v1\"}", "{\"kid\":\"v1\",\"alg\":\"HS256\"}",
        }.Select(h => Sign(System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(h)) + "." + payload)).ToArray();

        // Finding A6: a forged token is refused before anyone is known; one stuffed with 340 three-byte
        // member names (just under the 4096-character limit) must cost about what a plain forged one does.
        var plain = "{\"sub\":\"job-1\",\"iss\":\"requests-proxy\",\"aud\":\"requests-proxy\",\"exp\":4000000000,\"iat\":1,\"jti\":\"j\"";
        var stuffed = new StringBuilder(plain);
        for (var i = 0; i < 340; i++)
        {
            stuffed.Append(",\"").Append(i.ToString("x3", System.Globalization.CultureInfo.InvariantCulture)).Append("\":0");
        }

        _forged = Forge(plain + "}");
        _stuffed = Forge(stuffed.Append('}').ToString());

        _signingInput = Encoding.ASCII.GetBytes(_token[.._token.LastIndexOf('.')]);
        _verifier = new TokenVerifier(keys, revocations, new TokenValidationOptions(), TimeProvider.System);
        _warm = new TokenValidator(keys, revocations, new TokenValidationOptions(), TimeProvider.System);
        _uncached = new TokenValidator(keys, revocations, new TokenValidationOptions { CacheCapacity = 0 }, TimeProvider.System);
        _hmac = new HMACSHA256(Key);
        _handler = new JsonWebTokenHandler();
        _parameters = new TokenValidationParameters
        {
            ValidAudience = TokenDefaults.Audience,
            ValidIssuer = TokenDefaults.Issuer,
            IssuerSigningKey = new SymmetricSecurityKey(Key) { KeyId = "v1" },
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            ValidateLifetime = true,
            ValidateAudience = true,
            ValidateIssuer = true,
        };

        if (_verifier.Verify(_token, new byte[TokenVerifier.WorkspaceSize], out _) != TokenFailure.None ||
            _unseenHeaders.Any(t => _verifier.Verify(t, new byte[TokenVerifier.WorkspaceSize], out _) != TokenFailure.None) ||
            !_warm.Validate(_token).IsValid ||
            _verifier.Verify(_forged, new byte[TokenVerifier.WorkspaceSize], out _) != TokenFailure.BadSignature ||
            _verifier.Verify(_stuffed, new byte[TokenVerifier.WorkspaceSize], out _) != TokenFailure.BadSignature ||
            !_handler.ValidateTokenAsync(_token, _parameters).GetAwaiter().GetResult().IsValid)
        {
            throw new InvalidOperationException("the benchmark token does not validate");
        }

        Console.WriteLine($"// signing input: {_signingInput.Length} bytes, token: {_token.Length} chars");
    }

    [Benchmark(Baseline = true, Description = "floor: reused HMACSHA256 over the signing input")]
    public bool Floor() => _hmac.TryComputeHash(_signingInput, _mac, out _);

    [Benchmark(Description = "ours, cold: TokenVerifier.Verify (all checks, no cache)")]
    [SkipLocalsInit]
    public TokenFailure Cold()
    {
        Span<byte> workspace = stackalloc byte[TokenVerifier.WorkspaceSize];
        return _verifier.Verify(_token, workspace, out _);
    }

    [Benchmark(Description = "ours, cold, header never seen: TokenVerifier.Verify")]
    [SkipLocalsInit]
    public TokenFailure ColdNewHeader()
    {
        Span<byte> workspace = stackalloc byte[TokenVerifier.WorkspaceSize];
        var token = _unseenHeaders[_next++ % _unseenHeaders.Length];
        return _verifier.Verify(token, workspace, out _);
    }

    [Benchmark(Description = "ours, forged (bad signature): TokenVerifier.Verify")]
    [SkipLocalsInit]
    public TokenFailure Forged()
    {
        Span<byte> workspace = stackalloc byte[TokenVerifier.WorkspaceSize];
        return _verifier.Verify(_forged, workspace, out _);
    }

    [Benchmark(Description = "ours, forged with 340 member names: TokenVerifier.Verify")]
    [SkipLocalsInit]
    public TokenFailure ForgedStuffed()
    {
        Span<byte> workspace = stackalloc byte[TokenVerifier.WorkspaceSize];
        return _verifier.Verify(_stuffed, workspace, out _);
    }

    [Benchmark(Description = "ours, cold + claims object: TokenValidator without cache")]
    public bool ColdWithClaims() => _uncached.Validate(_token).IsValid;

    [Benchmark(Description = "ours, warm: TokenValidator.Validate (cached)")]
    public bool Warm() => _warm.Validate(_token).IsValid;

    [Benchmark(Description = "JsonWebTokenHandler.ValidateTokenAsync")]
    public async Task<bool> IdentityModel() => (await _handler.ValidateTokenAsync(_token, _parameters)).IsValid;

    private static string Sign(string signingInput) =>
        signingInput + "." + System.Buffers.Text.Base64Url.EncodeToString(HMACSHA256.HashData(Key, Encoding.ASCII.GetBytes(signingInput)));

    /// <summary>A token of key v1 whose signature is wrong (another key's): refused as bad_signature after every earlier check.</summary>
    private static string Forge(string payloadJson)
    {
        var input = System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"v1\"}"))
            + "." + System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payloadJson));
        return input + "." + System.Buffers.Text.Base64Url.EncodeToString(HMACSHA256.HashData(Encoding.ASCII.GetBytes("not-the-key"), Encoding.ASCII.GetBytes(input)));
    }

    [Benchmark(Description = "ours: TokenIssuer.Mint")]
    public string Mint() => _issuer.Mint(new TokenRequest("training-job-42")).Token;
}
