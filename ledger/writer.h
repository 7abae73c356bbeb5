// A thread that owns the only write connection to one SQLite file. Jobs run FIFO; all jobs queued
// at the moment the thread wakes run in one transaction, each inside its own SAVEPOINT so a failing
// job rolls back alone. A job's completion callback runs on the writer thread after COMMIT, so a
// caller told "done" knows the row is on disk (as durable as the file's synchronous level).
// A hold (hold()) keeps jobs queued rather than committed at once, so a burst of them (a JSON-RPC
// batch's adds) shares one transaction.
#pragma once

#include "ledger/db.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace seedbox::ledger {

class Writer {
public:
    // A job returns an error message (empty = success).
    using Job = std::function<std::string(Db&)>;
    using Done = std::function<void(std::string const& error)>;

    // `name`: the thread's (15 characters at most), what top -H and perf show.
    Writer(Db db, char const* name);
    Writer(Writer const&) = delete;
    ~Writer(); // drains the queue, then joins

    // Thread-safe. `done` (may be empty) runs on the writer thread after the commit.
    void submit(Job job, Done done = {});

    // Thread-safe; blocks the caller until the job is committed. Never call from the io thread.
    [[nodiscard]] std::string run(Job job);

    // Blocks until every job submitted so far has committed.
    void flush();

    // While the returned token (or a copy) lives, submitted jobs wait instead of committing, for
    // at most kMaxHold after the first of them; run() and flush() never wait for a hold.
    static constexpr std::chrono::milliseconds kMaxHold{1000};
    [[nodiscard]] std::shared_ptr<void> hold();
    // While this token lives, a caller is blocked waiting for a commit: holds do not apply.
    [[nodiscard]] std::shared_ptr<void> urgent();

private:
    void loop();
    [[nodiscard]] bool ready() const; // under mutex_: a queue to commit now

    Db db_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::pair<Job, Done>> queue_;
    bool stop_ = false;
    int holds_ = 0;    // live hold() tokens
    int blocking_ = 0; // live urgent() tokens: callers blocked until a commit
    std::thread thread_;
};

} // namespace seedbox::ledger
