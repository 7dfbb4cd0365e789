// The group-commit writer on a database that runs out of room: SQLite's
// max_page_count gives the same SQLITE_FULL a full disk gives, without root.
#include "coordinator/service/write_batcher.h"

#include <future>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../../support/temp_dir.h"
#include "coordinator/store/sqlite.h"

namespace tailsweep::coordinator {
namespace {

using ::testing::HasSubstr;

// Runs one operation through the writer and returns its answer.
http::Response run(WriteBatcher& writer, WriteBatcher::Operation operation) {
  auto promise = std::make_shared<std::promise<http::Response>>();
  std::future<http::Response> answer = promise->get_future();
  writer.submit(std::move(operation),
                http::Responder([promise](http::Response response) {
                  promise->set_value(std::move(response));
                }),
                false);
  return answer.get();
}

WriteBatcher::Operation insert_bytes(int bytes) {
  return [bytes](store::Store& store) {
    store.database().execute_script(
        fmt::format("INSERT INTO filler (bytes) VALUES (randomblob({}))", bytes));
    return std::optional<http::Response>(http::json_response(200, nullptr));
  };
}

TEST(WriteBatcher, AFullDatabaseIsAnswered503AndSaidOnceAndSoIsItsRecovery) {
  tailsweep::testing::TempDir scratch("tailsweep-writer");
  const std::string path = (scratch / "full.db").string();
  store::Store::migrate(path);
  WriteBatcher writer(path, {});
  ASSERT_EQ(run(writer,
                [](store::Store& store) {
                  store.database().execute_script("CREATE TABLE filler (bytes BLOB)");
                  // This connection's database may not grow past its size now.
                  store::Statement count = store.database().prepare("PRAGMA page_count");
                  count.step();
                  const int64_t pages = count.column_int64(0);
                  store.database().execute_script(
                      fmt::format("PRAGMA max_page_count = {}", pages + 2));
                  return std::optional<http::Response>(http::json_response(200, nullptr));
                })
                .status,
            200);

  ::testing::internal::CaptureStderr();
  const http::Response full = run(writer, insert_bytes(1 << 20));
  const http::Response still_full = run(writer, insert_bytes(1 << 20));
  EXPECT_EQ(full.status, 503);
  EXPECT_THAT(full.body, HasSubstr("database_unavailable"));
  EXPECT_THAT(full.body, HasSubstr("full"));
  EXPECT_EQ(still_full.status, 503);
  // Room again: the writes are stored, and the log says so.
  EXPECT_EQ(run(writer,
                [](store::Store& store) {
                  store.database().execute_script("PRAGMA max_page_count = 1000000");
                  return std::optional<http::Response>(http::json_response(200, nullptr));
                })
                .status,
            200);
  EXPECT_EQ(run(writer, insert_bytes(1 << 20)).status, 200);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(log, HasSubstr("the database " + path + " could not commit a write batch of 1"));
  EXPECT_THAT(log, HasSubstr("the disk under it is full: free space there"));
  EXPECT_THAT(log, HasSubstr("the database " + path + " commits again"));
  EXPECT_THAT(log, ::testing::Not(HasSubstr("internal")));
}

}  // namespace
}  // namespace tailsweep::coordinator
