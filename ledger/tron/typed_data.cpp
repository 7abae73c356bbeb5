#include "ledger/tron/typed_data.h"

#include "ledger/tron/address.h"
#include "ledger/tron/uint256.h"

#include <charconv>
#include <set>
#include <stdexcept>

namespace seedbox::tron {

using json = nlohmann::json;

namespace {

struct EncodeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string base_type(std::string const& type)
{
    auto b = type.find('[');
    return b == std::string::npos ? type : type.substr(0, b);
}

void collect(TypeMap const& types, std::string const& type, std::set<std::string>& out)
{
    auto base = base_type(type);
    if (!types.count(base) || out.count(base))
        return;
    out.insert(base);
    for (auto const& f : types.at(base))
        collect(types, f.type, out);
}

int bits_of(std::string const& type, std::size_t prefix)
{
    if (type.size() == prefix)
        return 256;
    int bits = 0;
    auto [p, ec] = std::from_chars(type.data() + prefix, type.data() + type.size(), bits);
    if (ec != std::errc{} || p != type.data() + type.size() || bits < 8 || bits > 256 || bits % 8)
        throw EncodeError("unsupported type " + type);
    return bits;
}

Uint256 integer_of(json const& v, std::string const& where)
{
    if (v.is_number_unsigned())
        return v.get<std::uint64_t>();
    if (v.is_number_integer() && v.get<std::int64_t>() >= 0)
        return static_cast<std::uint64_t>(v.get<std::int64_t>());
    if (v.is_string()) {
        auto s = v.get<std::string>();
        if (s.starts_with("0x")) {
            auto b = from_hex(s);
            if (!b || b->size() > 32)
                throw EncodeError(where + ": bad hex integer");
            return from_word(*b) >> (8 * (32 - b->size()));
        }
        if (auto u = parse_uint256(s))
            return *u;
    }
    throw EncodeError(where + ": expected an unsigned integer (decimal string)");
}

Hash32 encode_value(TypeMap const& types, std::string const& type, json const& v,
                    std::string const& where);

Hash32 struct_hash(TypeMap const& types, std::string const& type, json const& value,
                   std::string const& where)
{
    if (!value.is_object())
        throw EncodeError(where + ": expected an object of type " + type);
    Bytes enc;
    auto th = type_hash(types, type);
    enc.insert(enc.end(), th.begin(), th.end());
    for (auto const& f : types.at(type)) {
        auto path = where.empty() ? f.name : where + "." + f.name;
        if (!value.contains(f.name))
            throw EncodeError(path + ": missing");
        auto w = encode_value(types, f.type, value.at(f.name), path);
        enc.insert(enc.end(), w.begin(), w.end());
    }
    return keccak256(enc);
}

// T[] and T[n]: the hash of the elements' encodings, in order.
Hash32 encode_array(TypeMap const& types, std::string const& type, json const& v,
                    std::string const& where)
{
    auto open = type.rfind('[');
    auto elem = type.substr(0, open);
    if (!v.is_array())
        throw EncodeError(where + ": expected an array");
    auto size = type.substr(open + 1, type.size() - open - 2);
    if (!size.empty() && std::to_string(v.size()) != size)
        throw EncodeError(where + ": expected " + size + " elements");
    Bytes enc;
    for (std::size_t i = 0; i < v.size(); ++i) {
        auto w = encode_value(types, elem, v[i], where + "[" + std::to_string(i) + "]");
        enc.insert(enc.end(), w.begin(), w.end());
    }
    return keccak256(enc);
}

// An address as TRON Base58Check or as EVM hex (0x and 40 digits); both give the same word.
Hash32 encode_address(json const& v, std::string const& where)
{
    if (!v.is_string())
        throw EncodeError(where + ": expected an address string");
    auto s = v.get<std::string>();
    if (s.size() == 42 && s.starts_with("0x")) {
        auto b = from_hex(s);
        if (!b)
            throw EncodeError(where + ": bad hex address");
        std::array<std::uint8_t, 20> evm;
        std::copy(b->begin(), b->end(), evm.begin());
        return Address(evm).abi_word();
    }
    std::string why;
    auto a = Address::parse(s, &why);
    if (!a)
        throw EncodeError(where + ": " + why);
    return a->abi_word();
}

// bytes1 .. bytes32: the value left-aligned in one word.
Hash32 encode_fixed_bytes(std::string const& type, json const& v, std::string const& where)
{
    std::size_t len = 0;
    auto digits = std::string_view(type).substr(5);
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
    if (ec != std::errc{} || p != digits.data() + digits.size() || len < 1 || len > 32)
        throw EncodeError(where + ": unsupported type " + type);
    auto b = v.is_string() ? from_hex(v.get<std::string>()) : std::nullopt;
    if (!b || b->size() != len)
        throw EncodeError(where + ": expected " + std::to_string(len) + " hex bytes");
    Hash32 w{};
    std::copy(b->begin(), b->end(), w.begin());
    return w;
}

Hash32 encode_value(TypeMap const& types, std::string const& type, json const& v,
                    std::string const& where)
{
    if (type.ends_with("]"))
        return encode_array(types, type, v, where);
    if (types.count(type))
        return struct_hash(types, type, v, where);
    if (type == "address")
        return encode_address(v, where);
    if (type == "bool") {
        if (!v.is_boolean())
            throw EncodeError(where + ": expected true or false");
        return to_word(v.get<bool>() ? 1u : 0u);
    }
    if (type == "string") {
        if (!v.is_string())
            throw EncodeError(where + ": expected a string");
        return keccak256(view(v.get_ref<std::string const&>()));
    }
    if (type == "bytes") {
        auto b = v.is_string() ? from_hex(v.get<std::string>()) : std::nullopt;
        if (!b)
            throw EncodeError(where + ": expected hex bytes");
        return keccak256(*b);
    }
    if (type == "trcToken" || type.starts_with("uint")) {
        int bits = type == "trcToken" ? 256 : bits_of(type, 4);
        auto n = integer_of(v, where);
        if (bits < 256 && (n >> bits) != 0)
            throw EncodeError(where + ": does not fit in " + type);
        return to_word(n);
    }
    if (type.starts_with("bytes"))
        return encode_fixed_bytes(type, v, where);
    throw EncodeError(where + ": unsupported type " + type);
}

TypeMap domain_types(json const& domain)
{
    static std::vector<TypedField> const all = {{"name", "string"},
                                                {"version", "string"},
                                                {"chainId", "uint256"},
                                                {"verifyingContract", "address"},
                                                {"salt", "bytes32"}};
    std::vector<TypedField> present;
    for (auto const& f : all)
        if (domain.contains(f.name))
            present.push_back(f);
    return {{"EIP712Domain", present}};
}

} // namespace

std::string encode_type(TypeMap const& types, std::string const& primary)
{
    std::set<std::string> deps;
    collect(types, primary, deps);
    deps.erase(primary);
    std::vector<std::string> order{primary};
    order.insert(order.end(), deps.begin(), deps.end()); // std::set is sorted
    std::string out;
    for (auto const& t : order) {
        out += t + "(";
        bool first = true;
        for (auto const& f : types.at(t)) {
            out += (first ? "" : ",") + f.type + " " + f.name;
            first = false;
        }
        out += ")";
    }
    return out;
}

Hash32 type_hash(TypeMap const& types, std::string const& primary)
{
    return keccak256(view(encode_type(types, primary)));
}

HashOutcome hash_struct(TypeMap const& types, std::string const& primary, json const& value)
{
    if (!types.count(primary))
        return {std::nullopt, "unknown type " + primary};
    try {
        return {struct_hash(types, primary, value, ""), {}};
    } catch (EncodeError const& e) {
        return {std::nullopt, e.what()};
    }
}

HashOutcome domain_separator(json const& domain)
{
    if (!domain.is_object())
        return {std::nullopt, "domain must be an object"};
    return hash_struct(domain_types(domain), "EIP712Domain", domain);
}

HashOutcome typed_data_digest(TypeMap const& types, json const& domain, std::string const& primary,
                              json const& message)
{
    auto ds = domain_separator(domain);
    if (!ds.hash)
        return {std::nullopt, "domain: " + ds.error};
    auto sh = hash_struct(types, primary, message);
    if (!sh.hash)
        return sh;
    Bytes pre{0x19, 0x01};
    pre.insert(pre.end(), ds.hash->begin(), ds.hash->end());
    pre.insert(pre.end(), sh.hash->begin(), sh.hash->end());
    return {keccak256(pre), {}};
}

} // namespace seedbox::tron
