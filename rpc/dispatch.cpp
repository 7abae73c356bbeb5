// Running requests: parse, envelope, lookup, auth, params, run, answer; batches and deferred calls.
#include "rpc/dispatch.h"

#include "daemon/base/threads.h"
#include "daemon/torrent/torrents.h"
#include "rpc/json_limits.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <spdlog/spdlog.h>

namespace seedbox::rpc {

namespace asio = boost::asio;

namespace {

std::string dump(json const& j)
{
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

namespace detail {

// One call between its validation and its answer. Completed once (complete/fail); dropped
// without an answer it fails with -32603 unless the dispatcher has stopped.
struct Pending {
    std::function<void(std::string)> finish; // the whole response, as text
    json id;
    bool notification = false;
    std::string method;
    std::chrono::steady_clock::time_point start;
    RpcMetrics* metrics = nullptr;
    std::shared_ptr<std::atomic<bool>> live;
    std::atomic<bool> answered{false};

    // A call answered after the dispatcher stopped (an add whose commit completes at shutdown)
    // touches neither its metrics nor its connection: both may be gone.
    void complete(json result)
    {
        if (answered.exchange(true) || !live->load())
            return;
        observe(0);
        respond({{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}});
    }
    // `result` is JSON text (Call::answer_text); the envelope goes around it in place.
    void complete_text(std::string result)
    {
        if (answered.exchange(true) || !live->load())
            return;
        observe(0);
        if (notification)
            return finish({});
        result.insert(0, "{\"id\":" + dump(id) + ",\"jsonrpc\":\"2.0\",\"result\":");
        result += '}';
        finish(std::move(result));
    }
    void fail(RpcError const& e)
    {
        if (answered.exchange(true) || !live->load())
            return;
        observe(e.code);
        respond(
            {{"jsonrpc", "2.0"}, {"id", id}, {"error", error_object(e.code, e.token, e.what())}});
    }
    void respond(json const& response) { finish(notification ? std::string() : dump(response)); }
    void observe(int code)
    {
        metrics->observe(
            method, code,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    ~Pending()
    {
        if (answered || !live->load())
            return;
        spdlog::error("{}: the call ended without an answer", method);
        try {
            fail({Err::internal_error, "Internal error: the call ended without an "
                                       "answer"});
        } catch (std::exception const& e) {
            spdlog::error("{}: answering failed: {}", method, e.what());
        }
    }
};

} // namespace detail

void Reply::result(json value) const
{
    p_->complete(std::move(value));
}

void Reply::error(RpcError const& e) const
{
    p_->fail(e);
}

void Reply::answer(std::function<json()> const& fn) const
{
    try {
        result(fn());
    } catch (RpcError const& e) {
        error(e);
    } catch (std::exception const& e) {
        spdlog::error("{} failed: {}", p_->method, e.what());
        error({Err::internal_error, std::string("Internal error: ") + e.what()});
    }
}

Reply Call::defer()
{
    deferred_ = Reply(pending_);
    return *deferred_;
}

Param const& Call::declared(std::string const& name) const
{
    for (auto const& p : method_.params)
        if (p.name == name)
            return p;
    throw std::logic_error(method_.name + ": the handler reads \"" + name +
                           "\", which is not a declared param");
}

namespace {

json response_error(json const& id, int code, std::string const& token, std::string const& msg)
{
    return {{"jsonrpc", "2.0"}, {"id", id}, {"error", error_object(code, token, msg)}};
}

std::vector<std::string> names_of(MethodTable const& t)
{
    std::vector<std::string> names;
    for (auto const& m : t)
        names.push_back(m.name);
    return names;
}

// Collects the answers of a batch, in order, and sends them once the last one is in. Answers are
// kept as text: a batch of large results never holds more than one of them as a JSON tree.
struct Gather {
    std::mutex mutex;
    std::vector<std::optional<std::string>> answers;
    std::size_t left;
    Dispatcher::Done done;

    Gather(std::size_t n, Dispatcher::Done d) : answers(n), left(n), done(std::move(d)) {}
    void put(std::size_t i, std::optional<std::string> answer)
    {
        {
            std::lock_guard lock(mutex);
            answers[i] = std::move(answer);
            if (--left != 0)
                return;
        }
        std::size_t size = 2;
        for (auto const& a : answers)
            size += a ? a->size() + 1 : 0;
        std::string out;
        out.reserve(size);
        for (auto& a : answers) {
            if (!a)
                continue;
            out += out.empty() ? '[' : ',';
            out += *a;
            a.reset();
        }
        if (out.empty())
            return done(std::nullopt);
        out += ']';
        done(std::move(out));
    }
};

// The Pending of one request object. When its id has a type JSON-RPC forbids, it comes back
// already answered (so it ends silently) and without a finish: the caller refuses the request.
std::shared_ptr<detail::Pending> new_pending(json& req, Dispatcher::Done const& answer,
                                             RpcMetrics& metrics,
                                             std::shared_ptr<std::atomic<bool>> const& live)
{
    auto pending = std::make_shared<detail::Pending>();
    pending->notification = !req.contains("id");
    pending->start = std::chrono::steady_clock::now();
    pending->metrics = &metrics;
    pending->live = live;
    if (!pending->notification) {
        pending->id = req["id"];
        if (!pending->id.is_string() && !pending->id.is_number() && !pending->id.is_null()) {
            pending->answered = true;
            return pending;
        }
    }
    pending->finish = [answer, notification = pending->notification](std::string response) {
        answer(notification ? std::nullopt : std::optional<std::string>(std::move(response)));
    };
    return pending;
}

// Whether a batch calls a method that writes (Method::mutates).
bool writes_in(json const& batch, std::unordered_map<std::string, Method const*> const& index)
{
    return std::any_of(batch.begin(), batch.end(), [&](json const& call) {
        if (!call.is_object())
            return false;
        auto m = call.find("method");
        if (m == call.end() || !m->is_string())
            return false;
        auto it = index.find(m->get_ref<std::string const&>());
        return it != index.end() && it->second->mutates;
    });
}

// Params: every declared type, range, allowed value and member; no undeclared param, every
// required one. The -32602 message, or empty when the params fit `method` (named `name`).
std::string check_params(Method const& method, std::string const& name, json const& params)
{
    for (auto const& [key, value] : params.items()) {
        auto p = std::find_if(method.params.begin(), method.params.end(),
                              [&key = key](Param const& pp) { return pp.name == key; });
        if (p == method.params.end())
            return "Invalid params: unknown param \"" + key + "\" for " + name;
        if (value.is_null())
            continue;
        if (auto why = check_param(*p, value, key); !why.empty())
            return "Invalid params: " + why;
    }
    for (auto const& p : method.params)
        if (p.required && (!params.contains(p.name) || params[p.name].is_null()))
            return "Invalid params: missing required param \"" + p.name + "\" for " + name;
    return {};
}

} // namespace

Dispatcher::Dispatcher(MethodTable table, Context& ctx, Limits limits)
    : table_(std::move(table)), metrics_(names_of(table_)), ctx_(ctx), limits_(limits),
      slow_(limits.slow_workers)
{
    daemon::name_pool_threads(slow_, static_cast<std::size_t>(limits.slow_workers), "sbx-rpc-slow");
    check_method_table(table_);
    check_event_table();
    for (auto const& m : table_)
        index_[m.name] = &m;
    ctx_.offload = [this](std::function<void()> job) { return offload(std::move(job)); };
}

Dispatcher::~Dispatcher()
{
    stop();
    slow_.join();
}

void Dispatcher::stop()
{
    live_->store(false);
    slow_.stop();
}

void Dispatcher::join()
{
    slow_.join();
}

bool Dispatcher::offload(std::function<void()> job)
{
    if (slow_queued_.fetch_add(1) >= limits_.slow_queue) {
        --slow_queued_;
        return false;
    }
    asio::post(slow_, [this, job = std::move(job)] {
        --slow_queued_;
        try {
            job();
        } catch (std::exception const& e) {
            spdlog::error("slow job failed: {}", e.what());
        }
    });
    return true;
}

void Dispatcher::handle(std::string_view body, Connection& conn, Done done)
{
    auto refuse = [&](Err e, std::string const& msg) {
        RpcError const err(e, msg);
        metrics_.observe("", err.code, 0);
        done(dump(response_error(nullptr, err.code, err.token, msg)));
    };
    if (json_depth(body, limits_.max_depth) > limits_.max_depth)
        return refuse(Err::too_deep, "JSON nesting is deeper than the limit of " +
                                         std::to_string(limits_.max_depth));
    if (auto cost = json_parsed_bytes(body); cost > limits_.max_parsed_bytes)
        return refuse(Err::too_large, "Invalid Request: parsing this request would take about " +
                                          std::to_string(cost >> 20) + " MiB; the limit is " +
                                          std::to_string(limits_.max_parsed_bytes >> 20) +
                                          " MiB (4 x rpc.max_body_bytes)");
    json doc = json::parse(body, nullptr, false);
    if (doc.is_discarded())
        return refuse(Err::parse_error, "Parse error: the request body is not valid JSON");
    if (!doc.is_array())
        return run_one(std::move(doc), conn, std::move(done));
    if (doc.empty())
        return refuse(Err::invalid_request, "Invalid Request: empty batch");
    if (!conn.authenticated())
        return refuse(Err::unauthorized,
                      "Unauthorized: call auth.login on its own (not in a batch) first");
    if (doc.size() > limits_.max_batch)
        return refuse(Err::batch_too_large,
                      "Invalid Request: batch of " + std::to_string(doc.size()) +
                          " calls; the limit is " + std::to_string(limits_.max_batch));
    auto gather = std::make_shared<Gather>(doc.size(), std::move(done));
    // The batch's writes (its adds) share one state.db transaction, committed when the last call
    // has been handed over. A batch of reads holds nobody's writes back.
    auto const group = writes_in(doc, index_) ? ctx_.engine.group_commits() : nullptr;
    for (std::size_t i = 0; i < doc.size(); ++i)
        run_one(std::move(doc[i]), conn,
                [gather, i](std::optional<std::string> r) { gather->put(i, std::move(r)); });
}

std::optional<std::string> Dispatcher::handle(std::string_view body, Connection& conn)
{
    std::promise<std::optional<std::string>> promise;
    auto future = promise.get_future();
    handle(body, conn,
           [&promise](std::optional<std::string> r) { promise.set_value(std::move(r)); });
    return future.get();
}

void Dispatcher::run_one(json req, Connection& conn, Answer answer)
{
    auto invalid = [&](json const& id, std::string const& msg) {
        RpcError const err(Err::invalid_request, msg);
        metrics_.observe("", err.code, 0);
        answer(dump(response_error(id, err.code, err.token, msg)));
    };
    // Envelope
    if (!req.is_object())
        return invalid(nullptr, "Invalid Request: expected a JSON-RPC 2.0 request object");
    auto pending = new_pending(req, answer, metrics_, live_);
    if (pending->answered)
        return invalid(nullptr, "Invalid Request: id must be a string, number or null");
    auto fail = [&](Err e, std::string const& msg) { pending->fail({e, msg}); };
    if (req.value("jsonrpc", json()) != "2.0")
        return fail(Err::invalid_request, "Invalid Request: \"jsonrpc\" must be \"2.0\"");
    if (!req.contains("method") || !req["method"].is_string())
        return fail(Err::invalid_request, "Invalid Request: \"method\" must be a string");
    auto const name = req["method"].get<std::string>();
    json params = json::object();
    if (auto it = req.find("params"); it != req.end() && !it->is_null())
        params = std::move(*it);
    if (!params.is_object())
        return fail(Err::invalid_params,
                    "Invalid params: params must be an object of named parameters");

    // Lookup
    auto it = index_.find(name);
    pending->method = it == index_.end() ? "unknown" : name;
    if (it == index_.end())
        return fail(Err::method_not_found, "Method not found: " + name + " (see rpc.discover)");
    auto const& method = *it->second;

    // Auth / role
    if (!conn.authenticated() && !method.public_method)
        return fail(Err::unauthorized,
                    "Unauthorized: send Authorization: Bearer <token> or call auth.login first");
    if (method.websocket_only && !conn.websocket())
        return fail(Err::websocket_only,
                    name + " is only available over the WebSocket at GET /rpc");

    // Params
    if (auto why = check_params(method, name, params); !why.empty())
        return fail(Err::invalid_params, why);
    // A null param means "absent": handlers never see one.
    for (auto it = params.begin(); it != params.end();)
        it = it->is_null() ? params.erase(it) : std::next(it);

    // Run
    if (method.runs == Runs::slow) {
        auto job = [this, &method, &conn, pending, params = std::move(params)]() mutable {
            invoke(method, std::move(params), conn, pending);
        };
        if (!offload(std::move(job)))
            fail(Err::busy,
                 "Busy: too many slow calls are waiting (rpc.slow_workers); try again shortly");
        return;
    }
    invoke(method, std::move(params), conn, pending);
}

void Dispatcher::invoke(Method const& method, json params, Connection& conn,
                        std::shared_ptr<detail::Pending> const& pending)
{
    Call call(ctx_, conn, method, std::move(params));
    call.set_pending(pending);
    try {
        auto result = method.handler(call);
        if (auto& text = call.text())
            pending->complete_text(std::move(*text));
        else if (!call.deferred())
            pending->complete(std::move(result));
    } catch (RpcError const& e) {
        pending->fail(e);
    } catch (std::exception const& e) {
        spdlog::error("{} failed: {}", method.name, e.what());
        pending->fail({Err::internal_error, std::string("Internal error: ") + e.what()});
    }
}

} // namespace seedbox::rpc
