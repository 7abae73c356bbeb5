// Labels creatable and editable at run time: kept in state.db ("labels"), merged over the config
// file's (a runtime label of the same name wins until it is removed). Share limits, save paths
// and move_on_complete read the merged table, cfg.labels.
#include "daemon/torrent/engine_impl.h"

#include <spdlog/spdlog.h>

namespace seedbox::daemon {

using json = nlohmann::json;

namespace {

// The runtime labels as state.db keeps them.
std::string stored_text(std::map<std::string, config::LabelPolicy> const& labels)
{
    json out = json::object();
    for (auto const& [name, p] : labels)
        out[name] = config::label_json(p);
    return out.dump();
}

std::map<std::string, config::LabelPolicy> runtime_copy(Engine::Impl const& m)
{
    std::lock_guard lock(m.mutex);
    return m.runtime_labels;
}

} // namespace

void Engine::Impl::merge_labels()
{
    cfg.labels = config_labels;
    for (auto const& [name, p] : runtime_labels)
        cfg.labels[name] = p;
}

void Engine::Impl::load_runtime_labels()
{
    std::lock_guard lock(mutex);
    config_labels = cfg.labels;
    if (auto blob = store.get_blob("labels")) {
        auto j = json::parse(blob->begin(), blob->end(), nullptr, false);
        if (!j.is_object())
            j = json::object();
        for (auto const& [name, v] : j.items()) {
            config::LabelPolicy p;
            auto why = config::check_label_name(name);
            if (why.empty())
                why = config::parse_label(v, p, "labels." + name);
            if (!why.empty()) {
                spdlog::warn("stored label {} ignored: {}", name, why);
                continue;
            }
            runtime_labels[name] = p;
        }
    }
    merge_labels();
}

std::string Engine::Impl::label_save_path(std::vector<std::string> const& labels) const
{
    std::lock_guard lock(mutex);
    for (auto const& l : labels)
        if (auto it = cfg.labels.find(l); it != cfg.labels.end() && !it->second.save_path.empty())
            return it->second.save_path;
    return {};
}

std::vector<LabelInfo> Engine::labels()
{
    std::lock_guard lock(impl_->mutex);
    std::map<std::string, std::int64_t> counts;
    for (auto const& [id, e] : impl_->torrents)
        for (auto const& l : e.meta.labels)
            ++counts[l];
    std::vector<LabelInfo> out;
    for (auto const& [name, p] : impl_->cfg.labels)
        out.push_back(
            {name, p, impl_->runtime_labels.count(name) ? "runtime" : "config", counts[name]});
    return out;
}

Status Engine::set_label(std::string const& name, config::LabelPolicy const& policy)
{
    if (auto why = config::check_label_name(name); !why.empty())
        return make_error(Errc::invalid_argument, "name: " + why);
    auto& m = *impl_;
    std::lock_guard change(m.labels_change_mutex); // one change at a time, stored first
    auto next = runtime_copy(m);
    next[name] = policy;
    auto text = stored_text(next);
    auto err = m.store.wait([&](auto done) {
        m.store.put_blob("labels", ledger::Blob(text.begin(), text.end()), std::move(done));
    });
    if (!err.empty())
        return make_error(Errc::storage_failed, "cannot store the label: " + err);
    {
        std::lock_guard lock(m.mutex);
        m.runtime_labels = std::move(next);
        m.merge_labels();
    }
    spdlog::info("label {} set: {}", name, config::label_json(policy).dump());
    return Ok{};
}

Status Engine::remove_label(std::string const& name)
{
    auto& m = *impl_;
    std::lock_guard change(m.labels_change_mutex);
    auto next = runtime_copy(m);
    if (!next.count(name)) {
        std::lock_guard lock(m.mutex);
        return make_error(Errc::invalid_argument,
                          m.config_labels.count(name)
                              ? "label " + name + " comes from the config file; change it there"
                              : "no label " + name);
    }
    next.erase(name);
    auto text = stored_text(next);
    auto err = m.store.wait([&](auto done) {
        m.store.put_blob("labels", ledger::Blob(text.begin(), text.end()), std::move(done));
    });
    if (!err.empty())
        return make_error(Errc::storage_failed, "cannot store the labels: " + err);
    {
        std::lock_guard lock(m.mutex);
        m.runtime_labels = std::move(next);
        m.merge_labels();
    }
    spdlog::info("label {} removed", name);
    return Ok{};
}

} // namespace seedbox::daemon
