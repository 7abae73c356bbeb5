#include "daemon/settlement/node.h"

#include "ledger/tron/abi.h"

#include <charconv>
#include <cstdint>
#include <map>

namespace seedbox::daemon {

using json = nlohmann::json;

namespace {

// Numbers as the node sends them (integers, or decimal strings for int64 fields). Anything else
// is 0; a value beyond int64 is clamped, never wrapped.
std::int64_t int_of(json const& j, char const* key)
{
    auto it = j.find(key);
    if (it == j.end())
        return 0;
    if (it->is_number_unsigned()) {
        auto v = it->get<std::uint64_t>();
        return v > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(v);
    }
    if (it->is_number_integer())
        return it->get<std::int64_t>();
    if (it->is_string()) {
        auto const& s = it->get_ref<std::string const&>();
        std::int64_t v = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        return ec == std::errc() && end == s.data() + s.size() ? v : 0;
    }
    return 0;
}

// A member that must be an object; an empty one when it is absent or of another type.
json const& obj_of(json const& j, char const* key)
{
    static json const empty = json::object();
    auto it = j.find(key);
    return it != j.end() && it->is_object() ? *it : empty;
}

// A member that must be a boolean; false when it is absent or of another type.
bool bool_of(json const& j, char const* key)
{
    auto it = j.find(key);
    return it != j.end() && it->is_boolean() && it->get<bool>();
}

std::string str_of(json const& j, char const* key)
{
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

tron::Bytes hex_of(json const& j, char const* key)
{
    return tron::from_hex(str_of(j, key)).value_or(tron::Bytes{});
}

// Node messages are hex of UTF-8 in some answers and plain text in others.
std::string text_of(std::string const& s)
{
    if (s.empty() || s.size() % 2)
        return s;
    auto b = tron::from_hex(s);
    if (!b)
        return s;
    return std::string(b->begin(), b->end());
}

Error node_error(std::string const& what)
{
    return make_error(Errc::node_failed, what);
}

} // namespace

bool BroadcastResult::temporary() const
{
    return code == "SERVER_BUSY" || code == "NO_CONNECTION" ||
           code == "NOT_ENOUGH_EFFECTIVE_CONNECTION" || code == "BLOCK_UNSOLIDIFIED" ||
           code == "OTHER_ERROR" || code.empty();
}

Result<json> Node::call(bool solidity, std::string const& path, json const& body)
{
    auto r = t_(solidity, path, body);
    if (!r)
        return r.error();
    auto& j = r.value();
    if (!j.is_object())
        return node_error(path + " answered with something other than a JSON object");
    if (j.contains("Error"))
        return node_error(path + ": " +
                          (j["Error"].is_string()
                               ? j["Error"].get<std::string>()
                               : j["Error"].dump(-1, ' ', false, json::error_handler_t::replace)));
    return std::move(j);
}

Result<BlockRef> Node::now_block(bool solidity)
{
    auto r = call(solidity, solidity ? "/walletsolidity/getnowblock" : "/wallet/getnowblock",
                  json::object());
    if (!r)
        return r.error();
    auto const& j = r.value();
    auto const& raw = obj_of(obj_of(j, "block_header"), "raw_data");
    BlockRef b{int_of(raw, "number"), str_of(j, "blockID"), int_of(raw, "timestamp")};
    if (b.id.size() != 64 || b.timestamp <= 0)
        return node_error("getnowblock returned no block id or timestamp");
    return b;
}

Result<ConstantResult> Node::constant_call(tron::Address const& owner,
                                           tron::Address const& contract, tron::ByteView data)
{
    auto r = call(false, "/wallet/triggerconstantcontract",
                  {{"owner_address", owner.hex()},
                   {"contract_address", contract.hex()},
                   {"data", tron::to_hex(data)},
                   {"visible", false}});
    if (!r)
        return r.error();
    auto const& j = r.value();
    ConstantResult c;
    auto const& res = obj_of(j, "result");
    c.ok = bool_of(res, "result");
    c.energy_used = int_of(j, "energy_used");
    if (j.contains("constant_result") && j["constant_result"].is_array() &&
        !j["constant_result"].empty() && j["constant_result"][0].is_string())
        c.result =
            tron::from_hex(j["constant_result"][0].get<std::string>()).value_or(tron::Bytes{});
    if (!c.ok) {
        auto reason = tron::abi_revert_reason(c.result);
        c.message = reason ? "reverted: " + *reason : text_of(str_of(res, "message"));
        if (c.message.empty())
            c.message = str_of(res, "code");
    }
    return c;
}

Result<BroadcastResult> Node::broadcast_hex(std::string const& signed_hex)
{
    auto r = call(false, "/wallet/broadcasthex", {{"transaction", signed_hex}});
    if (!r)
        return r.error();
    auto const& j = r.value();
    BroadcastResult b;
    b.code = str_of(j, "code");
    b.message = text_of(str_of(j, "message"));
    bool ok = bool_of(j, "result");
    if (ok && b.code.empty())
        b.code = "SUCCESS";
    b.accepted = ok || b.code == "DUP_TRANSACTION_ERROR";
    return b;
}

Result<TxInfo> Node::tx_info(std::string const& txid, bool solidity)
{
    auto r =
        call(solidity,
             solidity ? "/walletsolidity/gettransactioninfobyid" : "/wallet/gettransactioninfobyid",
             {{"value", txid}});
    if (!r)
        return r.error();
    auto const& j = r.value();
    TxInfo t;
    if (txid.empty() || j.empty() || str_of(j, "id") != txid)
        return t;
    t.found = true;
    t.block = int_of(j, "blockNumber");
    auto const& receipt = obj_of(j, "receipt");
    t.receipt_result = str_of(receipt, "result");
    t.energy = int_of(receipt, "energy_usage_total");
    t.fee = int_of(j, "fee");
    t.failed = str_of(j, "result") == "FAILED";
    t.message = text_of(str_of(j, "resMessage"));
    if (j.contains("log") && j["log"].is_array())
        for (auto const& l : j["log"]) {
            TxInfo::Log log{hex_of(l, "address"), {}, hex_of(l, "data")};
            if (l.contains("topics") && l["topics"].is_array())
                for (auto const& topic : l["topics"])
                    if (topic.is_string())
                        log.topics.push_back(
                            tron::from_hex(topic.get<std::string>()).value_or(tron::Bytes{}));
            t.logs.push_back(std::move(log));
        }
    return t;
}

Result<bool> Node::tx_known(std::string const& txid, bool solidity)
{
    auto r = call(solidity,
                  solidity ? "/walletsolidity/gettransactionbyid" : "/wallet/gettransactionbyid",
                  {{"value", txid}});
    if (!r)
        return r.error();
    return !txid.empty() && str_of(r.value(), "txID") == txid;
}

Result<std::int64_t> Node::trx_balance(tron::Address const& a)
{
    auto r = call(false, "/wallet/getaccount", {{"address", a.hex()}, {"visible", false}});
    if (!r)
        return r.error();
    return int_of(r.value(), "balance");
}

Result<std::map<std::string, std::int64_t>> Node::chain_parameters()
{
    auto r = call(false, "/wallet/getchainparameters", json::object());
    if (!r)
        return r.error();
    std::map<std::string, std::int64_t> out;
    auto const& j = r.value();
    if (j.contains("chainParameter") && j["chainParameter"].is_array())
        for (auto const& p : j["chainParameter"])
            if (p.is_object())
                out[str_of(p, "key")] = int_of(p, "value");
    return out;
}

} // namespace seedbox::daemon
