// Ledger speed figures (issue 3), each against a same-run reference:
//  - a ledger flush of 100,000 per-peer deltas from known peers, the steady state of a flush every
//    few seconds (target < 1 s; the first flush, creating every counterparty, is shown too) vs a
//    bare INSERT of 100,000 rows
//    into a one-table SQLite file in one transaction, same synchronous=FULL (SQLite's floor);
//  - voucher verification rate on one core (target >= 20,000/s) vs bare secp256k1 recovery of
//    the same digests (the cryptographic floor);
//  - (issue 4) building and signing a 100-claim claimBatch transaction (target < 10 ms): ABI
//    calldata, protobuf raw_data, txID, signature, signed Transaction; vs one bare signature.
#include "ledger/db.h"
#include "ledger/ledger.h"
#include "ledger/tron/abi.h"
#include "ledger/tron/transaction.h"
#include "ledger/tron/voucher.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <optional>

using namespace seedbox;
using Clock = std::chrono::steady_clock;

static double seconds_since(Clock::time_point t)
{
    return std::chrono::duration<double>(Clock::now() - t).count();
}

namespace {

// 100 torrents, peers spread over 10.0.x.y; half of them authenticated.
std::vector<ledger::Delta> make_deltas(int deltas)
{
    std::vector<ledger::Delta> batch;
    for (int i = 0; i < deltas; ++i) {
        ledger::Delta d{"torrent" + std::to_string(i % 100),
                        "10.0." + std::to_string(i / 250 % 256) + "." + std::to_string(i % 250),
                        "client",
                        "",
                        1000000 + i,
                        i,
                        std::nullopt};
        if (i % 2) // half of them authenticated: priced, with a carried remainder
            d.address =
                tron::Address(std::array<std::uint8_t, 20>{static_cast<std::uint8_t>(i),
                                                           static_cast<std::uint8_t>(i >> 8),
                                                           static_cast<std::uint8_t>(i >> 16)})
                    .base58();
        batch.push_back(std::move(d));
    }
    return batch;
}

struct FlushFigures {
    double first_s = 0; // every counterparty new
    double warm_s = 0;  // steady state: the same, now known, counterparties
    bool verified = false;
};

// Two flushes of `batch` into a fresh ledger, then ledger.verify. Empty when the ledger cannot
// be opened or a flush fails (said on stderr).
std::optional<FlushFigures> time_flushes(std::filesystem::path const& dir,
                                         std::vector<ledger::Delta> const& batch)
{
    std::string err;
    auto led = ledger::Ledger::open((dir / "ledger.db").string(), err);
    if (!led) {
        std::fprintf(stderr, "%s\n", err.c_str());
        return std::nullopt;
    }
    // Times one flush of the whole batch; negative when it fails.
    auto timed_flush = [&] {
        std::promise<std::string> done;
        auto start = Clock::now();
        led->flush(batch, *tron::parse_uint256("1000000000000000000"),
                   [&](std::string const& e, ledger::FlushSummary const&) { done.set_value(e); });
        auto e = done.get_future().get();
        if (!e.empty())
            std::fprintf(stderr, "flush failed: %s\n", e.c_str());
        return e.empty() ? seconds_since(start) : -1.0;
    };
    FlushFigures f;
    f.first_s = timed_flush();
    f.warm_s = timed_flush();
    if (f.first_s < 0 || f.warm_s < 0)
        return std::nullopt;
    f.verified = led->verify().ok();
    return f;
}

// The reference: the same rows in one transaction into a one-table SQLite file.
double time_bare_insert(std::filesystem::path const& dir, std::vector<ledger::Delta> const& batch)
{
    ledger::Db bare;
    (void)bare.open((dir / "bare.db").string(), "FULL");
    (void)bare.exec("CREATE TABLE t (a TEXT, b TEXT, c INTEGER, d INTEGER, e TEXT)");
    auto t0 = Clock::now();
    (void)bare.exec("BEGIN");
    auto ins = bare.prepare("INSERT INTO t VALUES (?,?,?,?,?)");
    for (auto const& d : batch) {
        ins.reset();
        ins.bind(1, d.torrent)
            .bind(2, d.ip)
            .bind(3, d.up)
            .bind(4, d.down)
            .bind(5, std::string_view("0"));
        (void)ins.run();
    }
    (void)bare.exec("COMMIT");
    return seconds_since(t0);
}

// `count` vouchers to one provider, each from its own new payer, for cumulative 1000 + i.
struct SignedVouchers {
    tron::Address provider;
    std::vector<tron::Address> payers;
    std::vector<tron::Signature> sigs;
    std::vector<tron::Hash32> digests;
};

SignedVouchers sign_vouchers(tron::VoucherSigner const& signer, int count)
{
    SignedVouchers v;
    v.provider = tron::PrivateKey::generate().address();
    std::vector<tron::PrivateKey> payers;
    for (int i = 0; i < count; ++i) {
        payers.push_back(tron::PrivateKey::generate());
        v.sigs.push_back(signer.sign(payers.back(), v.provider, tron::Uint256(1000 + i)));
        v.digests.push_back(
            signer.digest(payers.back().address(), v.provider, tron::Uint256(1000 + i)));
    }
    for (auto const& k : payers)
        v.payers.push_back(k.address());
    return v;
}

struct VerifyFigures {
    int ok = 0;  // vouchers verified
    int rec = 0; // signatures recovered
    double verify_s = 0;
    double recover_s = 0;
};

// Voucher verification against bare secp256k1 recovery of the same digests.
VerifyFigures time_verification(tron::VoucherSigner const& signer, SignedVouchers const& v,
                                int count)
{
    VerifyFigures f;
    auto t0 = Clock::now();
    for (int i = 0; i < count; ++i)
        f.ok += signer.verify(v.payers[i], v.provider, tron::Uint256(1000 + i), v.sigs[i], 0) ==
                tron::VoucherSigner::Check::ok;
    f.verify_s = seconds_since(t0);
    t0 = Clock::now();
    for (int i = 0; i < count; ++i)
        f.rec += tron::recover(v.digests[i], v.sigs[i]).address.has_value();
    f.recover_s = seconds_since(t0);
    return f;
}

void print_flush_and_verification(int deltas, FlushFigures const& flush, double bare_s,
                                  int vouchers, VerifyFigures const& v)
{
    std::printf("ledger flush, %d deltas (half priced), known peers: %.3f s  (target < 1 s: %s; "
                "verify %s)\n",
                deltas, flush.warm_s, flush.warm_s < 1 ? "met" : "MISSED",
                flush.verified ? "clean" : "FAILED");
    std::printf("  first flush, every peer new:  %.3f s\n", flush.first_s);
    std::printf("  reference: bare INSERT of the same rows:  %.3f s  ratio %.2f\n", bare_s,
                flush.warm_s / bare_s);
    std::printf("voucher verification, one core: %.0f/s  (target >= 20000/s: %s; %d/%d ok)\n",
                vouchers / v.verify_s, vouchers / v.verify_s >= 20000 ? "met" : "MISSED", v.ok,
                vouchers);
    std::printf("  reference: bare secp256k1 recovery:  %.0f/s  ratio %.2f\n",
                vouchers / v.recover_s, v.recover_s / v.verify_s);
}

// Builds and signs a claimBatch of the first 100 vouchers, against one bare signature; prints
// both.
void bench_settlement_batch(SignedVouchers const& v, int vouchers)
{
    auto settler = tron::PrivateKey::generate();
    std::vector<tron::Address> batch_payers(v.payers.begin(), v.payers.begin() + 100);
    std::vector<tron::Uint256> amounts;
    std::vector<tron::Bytes> batch_sigs;
    for (int i = 0; i < 100; ++i) {
        amounts.push_back(tron::Uint256(1000 + i));
        batch_sigs.emplace_back(v.sigs[i].begin(), v.sigs[i].end());
    }
    tron::TxHeader header{tron::ref_block(66987565, tron::sha256(tron::view("block"))),
                          1777445181000, 1777445121000, 150000000, 0};
    int const builds = 200;
    std::size_t tx_bytes = 0;
    auto t0 = Clock::now();
    for (int i = 0; i < builds; ++i) {
        auto data = tron::abi_call("claimBatch(address[],uint256[],bytes[])",
                                   {batch_payers, amounts, batch_sigs});
        auto tx = tron::sign_transaction(
            settler,
            tron::raw_data(header, tron::TriggerSmartContract{settler.address(), v.provider, 0,
                                                              std::move(data)}));
        tx_bytes = tx.encoded.size();
    }
    double batch_ms = seconds_since(t0) * 1000 / builds;
    t0 = Clock::now();
    for (int i = 0; i < builds; ++i)
        (void)settler.sign(v.digests[i % vouchers]);
    double sign_ms = seconds_since(t0) * 1000 / builds;
    std::printf("build + sign a 100-claim batch: %.3f ms, %zu bytes  (target < 10 ms: %s)\n",
                batch_ms, tx_bytes, batch_ms < 10 ? "met" : "MISSED");
    std::printf("  reference: one bare secp256k1 signature:  %.3f ms  ratio %.2f\n", sign_ms,
                batch_ms / sign_ms);
}

} // namespace

int main(int argc, char** argv)
{
    int const deltas = argc > 1 ? std::atoi(argv[1]) : 100000;
    int const vouchers = std::max(argc > 2 ? std::atoi(argv[2]) : 20000, 200); // batch uses 200
    auto dir = std::filesystem::temp_directory_path() / "seedbox-ledger-bench";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);

    auto const batch = make_deltas(deltas);
    auto const flush = time_flushes(dir, batch);
    if (!flush)
        return 1;
    double const bare_s = time_bare_insert(dir, batch);

    tron::VoucherSigner signer({728126428, tron::Address()});
    auto const signed_vouchers = sign_vouchers(signer, vouchers);
    auto const verify = time_verification(signer, signed_vouchers, vouchers);
    print_flush_and_verification(deltas, *flush, bare_s, vouchers, verify);

    bench_settlement_batch(signed_vouchers, vouchers);

    std::filesystem::remove_all(dir);
    return verify.ok == vouchers && verify.rec == vouchers && flush->verified ? 0 : 1;
}
