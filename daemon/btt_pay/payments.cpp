#include "daemon/btt_pay/payments.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <libtorrent/ip_filter.hpp>
#include <spdlog/spdlog.h>

namespace seedbox::daemon {

using tron::Uint256;

namespace {

constexpr std::int64_t kVoucherBytes = 1 << 20;            // issue after 1 MiB received ...
constexpr auto kVoucherInterval = std::chrono::seconds(2); // ... or 2 s, whichever comes first
constexpr auto kResendInterval = std::chrono::seconds(5);

std::int64_t unix_now()
{
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string hex_of(tron::Signature const& s)
{
    return tron::to_hex(tron::ByteView(s.data(), s.size()));
}

// The voucher we sign as `me` for `provider`, as the ledger keeps it.
ledger::Voucher issued_voucher(PayIdentity const& me, tron::Address const& provider,
                               Uint256 const& cumulative, tron::Signature const& sig,
                               std::string const& torrent, Uint256 const& bid)
{
    return {me.address.base58(),
            provider.base58(),
            me.chain_id,
            me.hub.base58(),
            cumulative,
            hex_of(sig),
            torrent,
            0,
            bid};
}

// The ledger.voucher event of a voucher we issued, `amount` above the one before it.
VoucherKept issued_event(ledger::Issued const& issued, Uint256 const& amount)
{
    return {.issued = true,
            .payer = issued.voucher.payer,
            .beneficiary = issued.voucher.beneficiary,
            .cumulative = issued.voucher.cumulative,
            .amount = amount,
            .torrent = issued.voucher.torrent};
}

} // namespace

Payments::Payments(ledger::Ledger& ledger, std::shared_ptr<PayIdentity const> identity,
                   PaymentTerms terms, Publish publish)
    : ledger_(ledger), identity_(std::move(identity)), terms_(std::move(terms)),
      publish_(std::move(publish)), signer_({identity_->chain_id, identity_->hub})
{
}

void Payments::load(ledger::Balances b)
{
    free_use_ = std::move(b.free_use);
    for (auto const& [addr, amount] : b.accrued)
        if (auto a = tron::Address::parse(addr))
            payers_[*a].accrued = amount;
    for (auto const& [addr, amount] : b.kept)
        if (auto a = tron::Address::parse(addr))
            payers_[*a].kept = payers_[*a].pending = amount;
    for (auto& [addr, issued] : b.issued) {
        auto a = tron::Address::parse(addr);
        if (!a)
            continue;
        auto& p = providers_[*a];
        spent_ += issued.voucher.cumulative;
        if (auto sig = tron::from_hex(issued.voucher.signature); sig && sig->size() == 65) {
            tron::Signature copy;
            std::copy(sig->begin(), sig->end(), copy.begin());
            p.saved.emplace(issued.voucher.cumulative, copy);
        }
        p.issued = std::move(issued);
    }
}

void Payments::attach(lt::session_handle session)
{
    std::lock_guard lock(session_mutex_);
    session_ = session;
    ctx_ = &session.get_context();
    if (terms_.accept) {
        // Choking is the plugin's: every peer skips libtorrent's unchoke slots (it is unchoked
        // when interested) so libtorrent's choker never undoes the upload scheduler (scheduler.h).
        auto global = session.get_peer_class(lt::session::global_peer_class_id);
        global.ignore_unchoke_slots = true;
        session.set_peer_class(lt::session::global_peer_class_id, global);
    }
    apply_filter();
}

void Payments::attach(lt::io_context& ctx)
{
    std::lock_guard lock(session_mutex_);
    ctx_ = &ctx;
}

void Payments::detach()
{
    std::lock_guard lock(session_mutex_);
    session_.reset();
    ctx_ = nullptr;
}

void Payments::post(std::function<void()> fn)
{
    std::lock_guard lock(session_mutex_);
    if (ctx_)
        boost::asio::post(*ctx_, std::move(fn));
}

// Every address in the global class; LAN and loopback also in libtorrent's "local" class (no
// rate limits, no unchoke slots) unless bt.local_peers_unthrottled is off. Must be called with
// session_mutex_ held.
void Payments::apply_filter()
{
    if (!session_)
        return;
    using lt::make_address;
    auto bit = [](lt::peer_class_t c) { return 1u << static_cast<std::uint32_t>(c); };
    auto const global = bit(lt::session::global_peer_class_id);
    auto const local = global | bit(lt::session::local_peer_class_id);
    lt::ip_filter f;
    f.add_rule(make_address("0.0.0.0"), make_address("255.255.255.255"), global);
    f.add_rule(make_address("::"), make_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), global);
    if (terms_.local_peers_unthrottled) {
        for (auto [first, last] : {std::pair{"10.0.0.0", "10.255.255.255"},
                                   {"172.16.0.0", "172.31.255.255"},
                                   {"192.168.0.0", "192.168.255.255"},
                                   {"169.254.0.0", "169.254.255.255"},
                                   {"127.0.0.0", "127.255.255.255"},
                                   {"fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
                                   {"fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
                                   {"::1", "::1"}})
            f.add_rule(make_address(first), make_address(last), local);
    }
    session_->set_peer_class_filter(f);
}

void Payments::uploaded(tron::Address const& payer, std::int64_t bytes, Uint256 const& rate)
{
    auto& p = payers_[payer];
    p.accrued += ledger::Ledger::credit(bytes, rate, p.carry);
}

Uint256 Payments::owed(tron::Address const& payer) const
{
    auto it = payers_.find(payer);
    return it == payers_.end() ? Uint256(0) : it->second.accrued;
}

bool Payments::over_credit_line(tron::Address const& payer) const
{
    auto it = payers_.find(payer);
    if (it == payers_.end())
        return false;
    auto const& p = it->second;
    return p.accrued > p.kept && p.accrued - p.kept > terms_.credit_line;
}

void Payments::join(std::string const& ip, tron::Address const& payer)
{
    auto it = payers_by_ip_.find(ip);
    if (it == payers_by_ip_.end()) {
        if (payers_by_ip_.size() >= kMaxPayerIps) {
            payers_by_ip_.erase(payer_ips_.front());
            payer_ips_.pop_front();
        }
        it = payers_by_ip_.emplace(ip, std::vector<tron::Address>{}).first;
        payer_ips_.push_back(ip);
    }
    auto& group = it->second;
    if (group.size() < kMaxPayersPerIp &&
        std::find(group.begin(), group.end(), payer) == group.end())
        group.push_back(payer);
}

Uint256 Payments::unpaid(tron::Address const& payer, std::string const& ip) const
{
    auto own = unpaid(payer);
    auto it = payers_by_ip_.find(ip);
    if (it == payers_by_ip_.end())
        return own;
    Uint256 sum = 0;
    for (auto const& a : it->second)
        sum += unpaid(a);
    return std::max(own, sum);
}

bool Payments::over_credit_line(tron::Address const& payer, std::string const& ip) const
{
    if (over_credit_line(payer))
        return true;
    auto it = payers_by_ip_.find(ip);
    if (it == payers_by_ip_.end())
        return false;
    auto const& group = it->second;
    if (std::find(group.begin(), group.end(), payer) == group.end())
        return group.size() >= kMaxPayersPerIp; // one address too many from this IP
    return unpaid(payer, ip) > terms_.credit_line;
}

ledger::FreeUse* Payments::free_use(FreeKey const& key, std::int64_t now)
{
    auto it = free_use_.find(key);
    if (it == free_use_.end())
        return nullptr;
    if (now - it->second.since >= terms_.credit_window)
        it->second = {0, now};
    return &it->second;
}

void Payments::uploaded_free(std::string const& torrent, std::string const& ip, std::int64_t bytes)
{
    auto now = unix_now();
    FreeKey key{torrent, ip};
    if (auto* use = free_use(key, now)) {
        use->bytes += bytes;
        return;
    }
    if (free_use_.size() >= kMaxFreeUse) {
        // Full: forget the expired windows, else the oldest one (its peer starts again at zero).
        std::erase_if(free_use_,
                      [&](auto const& e) { return now - e.second.since >= terms_.credit_window; });
        if (free_use_.size() >= kMaxFreeUse)
            free_use_.erase(std::min_element(
                free_use_.begin(), free_use_.end(),
                [](auto const& a, auto const& b) { return a.second.since < b.second.since; }));
    }
    free_use_.emplace(std::move(key), ledger::FreeUse{bytes, now});
}

std::int64_t Payments::free_bytes(std::string const& torrent, std::string const& ip)
{
    auto* use = free_use({torrent, ip}, unix_now());
    return use ? use->bytes : 0;
}

Uint256 Payments::unpaid(std::string const& torrent, std::string const& ip)
{
    Uint256 carry = 0;
    return ledger::Ledger::credit(free_bytes(torrent, ip), terms_.price, carry);
}

Uint256 Payments::unpaid(tron::Address const& payer) const
{
    auto it = payers_.find(payer);
    if (it == payers_.end() || it->second.accrued <= it->second.kept)
        return 0;
    return it->second.accrued - it->second.kept;
}

bool Payments::over_credit_line(std::string const& torrent, std::string const& ip)
{
    return unpaid(torrent, ip) > terms_.credit_line;
}

void Payments::set_peer_payment(std::string const& torrent, std::string const& endpoint,
                                PeerPayment view)
{
    std::lock_guard lock(views_mutex_);
    views_[{torrent, endpoint}] = std::move(view);
}

void Payments::forget_peer_payment(std::string const& torrent, std::string const& endpoint)
{
    std::lock_guard lock(views_mutex_);
    views_.erase({torrent, endpoint});
}

std::optional<Payments::PeerPayment> Payments::peer_payment(std::string const& torrent,
                                                            std::string const& endpoint) const
{
    std::lock_guard lock(views_mutex_);
    auto it = views_.find({torrent, endpoint});
    if (it == views_.end())
        return std::nullopt;
    return it->second;
}

PaymentFigures Payments::class_figures() const
{
    PaymentFigures f;
    for (std::size_t i = 0; i < uploaded_by_class_.size(); ++i) {
        f.uploaded_by_class[kClassNames[i]] = uploaded_by_class_[i].load(std::memory_order_relaxed);
        f.peers_by_class[kClassNames[i]] = 0;
    }
    {
        std::lock_guard lock(views_mutex_);
        for (auto const& [key, view] : views_)
            ++f.peers_by_class[view.state];
    }
    f.upload_by_bid = by_bid_.load(std::memory_order_relaxed);
    return f;
}

void Payments::receive(tron::Address const& payer, std::string_view cumulative_text,
                       tron::ByteView signature, std::string const& torrent, Uint256 const& bid,
                       Reply reply)
{
    auto cumulative = tron::parse_uint256(cumulative_text);
    if (!cumulative || cumulative_text.empty() || signature.size() != 65) {
        reply("malformed voucher", 0);
        return;
    }
    auto& p = payers_[payer];
    auto const last = std::max(p.kept, p.pending);
    auto check = signer_.verify(payer, identity_->address, *cumulative, signature, last);
    if (check != tron::VoucherSigner::Check::ok) {
        reply(std::string("voucher refused: ") + tron::describe(check), last);
        return;
    }
    p.pending = *cumulative;
    ledger::Voucher v{payer.base58(),
                      identity_->address.base58(),
                      identity_->chain_id,
                      identity_->hub.base58(),
                      *cumulative,
                      tron::to_hex(signature),
                      torrent,
                      0,
                      bid};
    auto self = shared_from_this();
    ledger_.keep_voucher(v, [self, v, payer, reply = std::move(reply)](std::string const& err,
                                                                       Uint256 const& increase) {
        if (err.empty())
            self->publish_(VoucherKept{.issued = false,
                                       .payer = v.payer,
                                       .beneficiary = v.beneficiary,
                                       .cumulative = v.cumulative,
                                       .amount = increase,
                                       .torrent = v.torrent});
        self->post([self, v, payer, err, reply] {
            auto& p = self->payers_[payer];
            if (!err.empty()) {
                spdlog::warn("btt_pay: voucher from {} not kept: {}", v.payer, err);
                p.pending = p.kept;
                reply("voucher not kept: " + err, p.kept);
                return;
            }
            p.kept = std::max(p.kept, v.cumulative);
            reply({}, p.kept);
        });
    });
}

void Payments::downloaded(tron::Address const& provider, std::int64_t bytes, Uint256 const& bid)
{
    auto& p = providers_[provider];
    p.unvouchered += bytes;
    p.owed += ledger::Ledger::credit(bytes, bid, p.issued.carry);
    p.bid = bid;
}

void Payments::maybe_issue(tron::Address const& provider, std::string const& torrent, bool force,
                           Send send)
{
    auto& p = providers_[provider];
    auto const now = std::chrono::steady_clock::now();
    if (p.in_flight)
        return;
    bool due = p.unvouchered > 0 &&
               (force || p.unvouchered >= kVoucherBytes || now - p.last_issue >= kVoucherInterval);
    if (!due) {
        // Offer the newest voucher again while the provider has not acknowledged it.
        if (p.saved && p.issued.acked < p.saved->first && now - p.last_send >= kResendInterval) {
            p.last_send = now;
            send(p.saved->first, p.saved->second);
        }
        return;
    }
    auto amount = p.owed;
    if (spent_ >= terms_.budget) {
        if (!budget_warned_)
            spdlog::warn("btt_pay: payments.budget ({}) is spent; no more vouchers",
                         tron::to_decimal(terms_.budget));
        budget_warned_ = true;
        return;
    }
    if (amount > terms_.budget - spent_)
        amount = terms_.budget - spent_;
    p.issued.bytes += p.unvouchered;
    p.unvouchered = 0;
    p.owed = 0;
    p.last_issue = now;
    if (amount == 0)
        return; // less than one base unit so far: the carry keeps it for the next voucher
    auto cumulative = p.issued.voucher.cumulative + amount;
    auto sig = signer_.sign(identity_->key, provider, cumulative);
    spent_ += amount;
    p.issued.voucher = issued_voucher(*identity_, provider, cumulative, sig, torrent, p.bid);
    p.in_flight = true;
    auto self = shared_from_this();
    auto issued = p.issued;
    ledger_.save_issued(issued, [self, provider, issued, amount, sig,
                                 send = std::move(send)](std::string const& err) {
        if (err.empty())
            self->publish_(issued_event(issued, amount));
        else
            spdlog::error("btt_pay: voucher to {} not saved, so not sent: {}",
                          issued.voucher.beneficiary, err);
        self->post([self, provider, err, issued, sig, send] {
            auto& p = self->providers_[provider];
            p.in_flight = false;
            if (!err.empty())
                return;
            p.saved.emplace(issued.voucher.cumulative, sig);
            p.last_send = std::chrono::steady_clock::now();
            send(issued.voucher.cumulative, sig);
        });
    });
}

void Payments::start_paying(std::string const& torrent, Uint256 const& rate)
{
    paying_[torrent].insert(rate);
}

void Payments::stop_paying(std::string const& torrent, Uint256 const& rate)
{
    auto it = paying_.find(torrent);
    if (it == paying_.end())
        return;
    if (auto r = it->second.find(rate); r != it->second.end())
        it->second.erase(r);
    if (it->second.empty())
        paying_.erase(it);
}

std::optional<Uint256> Payments::cheapest_paid(std::string const& torrent) const
{
    auto it = paying_.find(torrent);
    if (it == paying_.end() || it->second.empty())
        return std::nullopt;
    return *it->second.begin();
}

bool Payments::settled(tron::Address const& provider) const
{
    auto it = providers_.find(provider);
    if (it == providers_.end())
        return true;
    auto const& p = it->second;
    return p.unvouchered == 0 && !p.in_flight && (!p.saved || p.issued.acked >= p.saved->first);
}

void Payments::acked(tron::Address const& provider, Uint256 const& cumulative)
{
    auto& p = providers_[provider];
    if (!p.saved || cumulative <= p.issued.acked || cumulative > p.saved->first)
        return;
    p.issued.acked = cumulative;
    ledger_.save_ack(provider.base58(), cumulative);
}

} // namespace seedbox::daemon
