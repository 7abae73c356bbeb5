// Ledger speed figures (issue 3), each against a same-run reference:
//  - a ledger flush of 100,000 per-peer deltas from known peers, the steady state of a flush every
//    few seconds (target < 1 s; the first flush, creating every counterparty, is shown too) vs a
//    bare INSERT of 100,000 rows
//    into a one-table SQLite file in one transaction, same synchronous=FULL (SQLite's floor);
//  - voucher verification rate on one core (target >= 20,000/s) vs bare secp256k1 recovery of
//    the same digests (the cryptographic floor).
#include "ledger/db.h"
#include "ledger/ledger.h"
#include "ledger/tron/voucher.h"

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
    int const vouchers = argc > 2 ? std::atoi(argv[2]) : 20000;
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
                        i};
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
    std::promise<std::string> done;
    auto t0 = Clock::now();
    led->flush(batch, *tron::parse_uint256("1000000000000000000"),
               [&](std::string const& e, ledger::FlushSummary const&) { done.set_value(e); });
    err = done.get_future().get();
    double flush_s = seconds_since(t0);
    if (!err.empty()) {
        std::fprintf(stderr, "flush failed: %s\n", err.c_str());
        return 1;
    }
    // Steady state: the next flush, with the same (now known) counterparties.
    std::promise<std::string> done2;
    t0 = Clock::now();
    led->flush(batch, *tron::parse_uint256("1000000000000000000"),
               [&](std::string const& e, ledger::FlushSummary const&) { done2.set_value(e); });
    err = done2.get_future().get();
    double warm_s = seconds_since(t0);
    if (!err.empty()) {
        std::fprintf(stderr, "flush failed: %s\n", err.c_str());
        return 1;
    }
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
    std::filesystem::remove_all(dir);
    return ok == vouchers && rec == vouchers && verified ? 0 : 1;
}
