#include "ledger/writer.h"

#include <pthread.h>
#include <vector>

namespace seedbox::ledger {

Writer::Writer(Db db, char const* name)
    : db_(std::move(db)), thread_([this, name] {
          (void)pthread_setname_np(pthread_self(), name); // a nicety: never fatal
          loop();
      })
{
}

Writer::~Writer()
{
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void Writer::submit(Job job, Done done)
{
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        // Held: the thread needs waking only for the first job, to start its kMaxHold wait.
        wake = holds_ == 0 || queue_.empty();
        queue_.emplace_back(std::move(job), std::move(done));
    }
    if (wake)
        cv_.notify_one();
}

std::string Writer::run(Job job)
{
    auto const blocked = urgent();
    std::promise<std::string> promise;
    auto result = promise.get_future();
    submit(std::move(job), [&promise](std::string const& err) { promise.set_value(err); });
    return result.get();
}

std::shared_ptr<void> Writer::urgent()
{
    {
        std::lock_guard lock(mutex_);
        ++blocking_;
    }
    cv_.notify_one(); // past any hold
    return std::shared_ptr<void>(nullptr, [this](void*) {
        std::lock_guard lock(mutex_);
        --blocking_;
    });
}

std::shared_ptr<void> Writer::hold()
{
    {
        std::lock_guard lock(mutex_);
        ++holds_;
    }
    return std::shared_ptr<void>(nullptr, [this](void*) {
        {
            std::lock_guard lock(mutex_);
            --holds_;
        }
        cv_.notify_one();
    });
}

bool Writer::ready() const
{
    return stop_ || (!queue_.empty() && (holds_ == 0 || blocking_ > 0));
}

void Writer::flush()
{
    (void)run([](Db&) { return std::string(); });
}

void Writer::loop()
{
    for (;;) {
        std::deque<std::pair<Job, Done>> batch;
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
            if (!ready()) // held: until released, or kMaxHold at most
                cv_.wait_for(lock, kMaxHold, [this] { return ready(); });
            if (queue_.empty() && stop_)
                return;
            batch.swap(queue_);
        }
        std::vector<std::string> errors(batch.size());
        std::string tx_error = db_.run("BEGIN IMMEDIATE");
        if (tx_error.empty()) {
            for (std::size_t i = 0; i < batch.size(); ++i) {
                if (auto e = db_.run("SAVEPOINT job"); !e.empty()) {
                    errors[i] = e;
                    continue;
                }
                try {
                    errors[i] = batch[i].first(db_);
                } catch (std::exception const& ex) {
                    errors[i] = ex.what();
                }
                if (!errors[i].empty())
                    (void)db_.run("ROLLBACK TO job");
                (void)db_.run("RELEASE job");
            }
            tx_error = db_.run("COMMIT");
            if (!tx_error.empty())
                (void)db_.run("ROLLBACK");
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (!batch[i].second)
                continue;
            batch[i].second(tx_error.empty() ? errors[i] : "commit failed: " + tx_error);
        }
    }
}

} // namespace seedbox::ledger
