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

using namespace seedbox;
using Clock = std::chrono::steady_clock;

static double seconds_since(Clock::time_point t)
{
    return std::chrono::duration<double>(Clock::now() - t).count();
}

int main(int argc, char** argv)
{
    int const deltas = argc > 1 ? std::atoi(argv[1]) : 100000;
    int const vouchers = std::max(argc > 2 ? std::atoi(argv[2]) : 20000, 200); // batch uses 200
    auto dir = std::filesystem::temp_directory_path() / "seedbox-ledger-bench";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);

    // --- flush ------------------------------------------------------------------------------
    auto keys = std::vector<tron::PrivateKey>();
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
    std::string err;
    auto led = ledger::Ledger::open((dir / "ledger.db").string(), err);
    if (!led) {
        std::fprintf(stderr, "%s\n", err.c_str());
        return 1;
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
    double flush_s = timed_flush(); // every counterparty new
    double warm_s = timed_flush();  // steady state: the same, now known, counterparties
    if (flush_s < 0 || warm_s < 0)
        return 1;
    auto t0 = Clock::now();
    bool verified = led->verify()["ok"].get<bool>();

    ledger::Db bare;
    (void)bare.open((dir / "bare.db").string(), "FULL");
    (void)bare.exec("CREATE TABLE t (a TEXT, b TEXT, c INTEGER, d INTEGER, e TEXT)");
    t0 = Clock::now();
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
    double bare_s = seconds_since(t0);

    // --- vouchers ---------------------------------------------------------------------------
    tron::VoucherSigner signer({728126428, tron::Address()});
    auto provider = tron::PrivateKey::generate().address();
    std::vector<tron::PrivateKey> payers;
    std::vector<tron::Signature> sigs;
    std::vector<tron::Hash32> digests;
    for (int i = 0; i < vouchers; ++i) {
        payers.push_back(tron::PrivateKey::generate());
        sigs.push_back(signer.sign(payers.back(), provider, tron::Uint256(1000 + i)));
        digests.push_back(
            signer.digest(payers.back().address(), provider, tron::Uint256(1000 + i)));
    }
    std::vector<tron::Address> payer_addrs;
    for (auto const& k : payers)
        payer_addrs.push_back(k.address());
    t0 = Clock::now();
    int ok = 0;
    for (int i = 0; i < vouchers; ++i)
        ok += signer.verify(payer_addrs[i], provider, tron::Uint256(1000 + i), sigs[i], 0) ==
              tron::VoucherSigner::Check::ok;
    double verify_s = seconds_since(t0);
    t0 = Clock::now();
    int rec = 0;
    for (int i = 0; i < vouchers; ++i)
        rec += tron::recover(digests[i], sigs[i]).address.has_value();
    double recover_s = seconds_since(t0);

    std::printf("ledger flush, %d deltas (half priced), known peers: %.3f s  (target < 1 s: %s; "
                "verify %s)\n",
                deltas, warm_s, warm_s < 1 ? "met" : "MISSED", verified ? "clean" : "FAILED");
    std::printf("  first flush, every peer new:  %.3f s\n", flush_s);
    std::printf("  reference: bare INSERT of the same rows:  %.3f s  ratio %.2f\n", bare_s,
                warm_s / bare_s);
    std::printf("voucher verification, one core: %.0f/s  (target >= 20000/s: %s; %d/%d ok)\n",
                vouchers / verify_s, vouchers / verify_s >= 20000 ? "met" : "MISSED", ok, vouchers);
    std::printf("  reference: bare secp256k1 recovery:  %.0f/s  ratio %.2f\n", vouchers / recover_s,
                recover_s / verify_s);

    // --- a 100-claim settlement batch -------------------------------------------------------
    auto settler = tron::PrivateKey::generate();
    std::vector<tron::Address> batch_payers(payer_addrs.begin(), payer_addrs.begin() + 100);
    std::vector<tron::Uint256> amounts;
    std::vector<tron::Bytes> batch_sigs;
    for (int i = 0; i < 100; ++i) {
        amounts.push_back(tron::Uint256(1000 + i));
        batch_sigs.emplace_back(sigs[i].begin(), sigs[i].end());
    }
    tron::TxHeader header{tron::ref_block(66987565, tron::sha256(tron::view("block"))),
                          1777445181000, 1777445121000, 150000000, 0};
    int const builds = 200;
    std::size_t tx_bytes = 0;
    t0 = Clock::now();
    for (int i = 0; i < builds; ++i) {
        auto data = tron::abi_call("claimBatch(address[],uint256[],bytes[])",
                                   {batch_payers, amounts, batch_sigs});
        auto tx = tron::sign_transaction(
            settler, tron::raw_data(header, tron::TriggerSmartContract{settler.address(), provider,
                                                                       0, std::move(data)}));
        tx_bytes = tx.encoded.size();
    }
    double batch_ms = seconds_since(t0) * 1000 / builds;
    t0 = Clock::now();
    for (int i = 0; i < builds; ++i)
        (void)settler.sign(digests[i % vouchers]);
    double sign_ms = seconds_since(t0) * 1000 / builds;
    std::printf("build + sign a 100-claim batch: %.3f ms, %zu bytes  (target < 10 ms: %s)\n",
                batch_ms, tx_bytes, batch_ms < 10 ? "met" : "MISSED");
    std::printf("  reference: one bare secp256k1 signature:  %.3f ms  ratio %.2f\n", sign_ms,
                batch_ms / sign_ms);

    std::filesystem::remove_all(dir);
    return ok == vouchers && rec == vouchers && verified ? 0 : 1;
}
