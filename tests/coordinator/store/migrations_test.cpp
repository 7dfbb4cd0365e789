#include "coordinator/store/migrations.h"

#include <array>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../../support/temp_dir.h"
#include "common/util/errors.h"
#include "coordinator/store/store.h"
#include "results_fixture.h"

namespace tailsweep::store {
namespace {

using ::testing::HasSubstr;

class MigrationsTest : public ::testing::Test {
 protected:
  std::string path() const { return (dir_ / "results.db").string(); }
  Database open() { return Database(path(), OpenOptions{.read_only = false, .create = true}); }

  int64_t count(Database& db, const std::string& sql) {
    auto statement = db.prepare(sql);
    statement.step();
    return statement.column_int64(0);
  }

  testing::TempDir dir_{"tailsweep-migrations"};
};

TEST_F(MigrationsTest, EmbedsTheSchemaFilesInOrder) {
  const auto migrations = embedded_migrations();
  ASSERT_FALSE(migrations.empty());
  EXPECT_EQ(migrations.front().number, 1);
  EXPECT_EQ(migrations.front().name, "001_initial.sql");
  EXPECT_THAT(std::string(migrations.front().sql), HasSubstr("CREATE TABLE jobs"));
  EXPECT_EQ(binary_schema_version(), migrations.back().number);
}

TEST_F(MigrationsTest, CreatesAFreshDatabaseAndSetsUserVersion) {
  const MigrationReport report = Store::migrate(path());
  EXPECT_EQ(report.from_version, 0);
  EXPECT_EQ(report.to_version, binary_schema_version());
  Database db = open();
  EXPECT_EQ(db.user_version(), binary_schema_version());
  for (const char* table :
       {"devices", "agents", "sweeps", "jobs", "job_dependencies", "results", "curve_points",
        "power", "evaluations", "accuracy_points", "schedules", "failures"}) {
    EXPECT_EQ(count(db, std::string("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                    "AND name = '") +
                            table + "'"),
              1)
        << table;
  }
  for (const char* view : {"curve", "schedule_view", "accuracy_table", "job_overview"}) {
    EXPECT_EQ(count(db, std::string("SELECT count(*) FROM sqlite_master WHERE type = 'view' "
                                    "AND name = '") +
                            view + "'"),
              1)
        << view;
  }
}

// One naming rule for views (docs/schema.md): `<noun>_view`, starting with
// sweep_id, device, model, batch; the old names are aliases with their old
// columns.
TEST_F(MigrationsTest, EveryViewFollowsTheNamingRuleAndStartsWithTheSameFourColumns) {
  Store::migrate(path());
  Database db = open();
  const std::set<std::string> aliases = {"curve", "accuracy_table", "job_overview"};
  auto views = db.prepare("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name");
  int named = 0;
  while (views.step()) {
    const std::string view = views.column_text(0);
    if (aliases.contains(view)) continue;
    ++named;
    EXPECT_TRUE(view.ends_with("_view")) << view;
    auto columns = db.prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid LIMIT 4");
    columns.bind(1, view);
    std::vector<std::string> first;
    while (columns.step()) first.push_back(columns.column_text(0));
    EXPECT_EQ(first, (std::vector<std::string>{"sweep_id", "device", "model", "batch"})) << view;
  }
  EXPECT_GE(named, 12);
  // The aliases keep exactly the columns they had before migration 010.
  EXPECT_EQ(count(db, "SELECT count(*) FROM pragma_table_info('curve')"), 35);
  EXPECT_EQ(count(db, "SELECT count(*) FROM pragma_table_info('accuracy_table')"), 13);
  EXPECT_EQ(count(db, "SELECT count(*) FROM pragma_table_info('job_overview')"), 15);
}

// An upgrade with results in the database: one written by schema 9 (the
// version before views composed) is migrated by this binary with every row
// kept, the files' integrity intact, and the new views showing the old rows.
TEST_F(MigrationsTest, AVersionNineDatabaseWithResultsIsMigratedWithNothingLost) {
  {
    Database db = open();
    apply_migrations(db, embedded_migrations().first(9));
    ASSERT_EQ(db.user_version(), 9);
    db.execute_script(R"sql(
      INSERT INTO devices (id, name, kind, simulated, first_seen, last_seen)
        VALUES (1, 'cpu-1', 'cpu', 0, 1, 1), (2, 'nano', 'sim', 1, 1, 1);
      INSERT INTO agents (id, device_id, token_hash, version, git_sha, registered_at, last_seen)
        VALUES (1, 1, printf('%064d', 1), '0.1.0', 'abc', 1, 1);
      INSERT INTO sweeps (id, name, spec, state, created_at, finished_at)
        VALUES (1, 'old', '{}', 'done', 1, 2);
      INSERT INTO jobs (id, sweep_id, kind, runner, device_id, spec, state, created_at, updated_at)
        VALUES (1, 1, 'profile', 'agent', 1, '{"model": "deit-tiny", "batches": [1]}', 'done', 1, 2),
               (2, 1, 'eval', 'agent', 1, '{"model": "deit-tiny"}', 'done', 1, 2),
               (3, 1, 'eval', 'agent', 1, '{"model": "deit-tiny"}', 'done', 1, 2),
               (4, 1, 'schedule', 'coordinator', 1, '{"model": "deit-tiny"}', 'done', 1, 2);
      INSERT INTO results (id, job_id, agent_id, device_id, received_at, body, body_sha256)
        VALUES (1, 1, 1, 1, 2, '{}', printf('%064d', 0)), (2, 2, 1, 1, 2, '{}', printf('%064d', 0)),
               (3, 3, 1, 1, 2, '{}', printf('%064d', 0));
      INSERT INTO curve_points (id, result_id, job_id, device_id, model, mode, batch, tokens,
          median_ms, p5_ms, p25_ms, p75_ms, p95_ms, mean_ms, stddev_ms, mad_ms, samples, stable,
          reached_precision, raw_ms)
        VALUES (1, 1, 1, 1, 'deit-tiny', 'model', 1, 128, 10, 9, 9.5, 10.5, 11, 10, 0.5, 0.2, 10, 1, 1, '[10]'),
               (2, 1, 1, 1, 'deit-tiny', 'model', 1, 197, 20, 19, 19.5, 20.5, 21, 20, 0.5, 0.2, 10, 1, 1, '[20]');
      INSERT INTO power (curve_point_id, null_reason) VALUES (1, 'no sensor'), (2, 'no sensor');
      INSERT INTO evaluations (id, result_id, job_id, device_id, model, dataset, split, images,
          method, batch, top1, top5)
        VALUES (1, 2, 2, 1, 'deit-tiny', 'fashion-mnist', 'test', 100, 'none', 8, 0.9, 1),
               (2, 3, 3, 1, 'deit-tiny', 'fashion-mnist', 'test', 100, 'pomt:58', 8, 0.85, 1);
      INSERT INTO schedules (sweep_id, job_id, device_id, model, batch, alpha, tokens_total,
          n_star, r, layer, source_job_ids, created_at)
        VALUES (1, 4, 1, 'deit-tiny', 1, 0.5, 197, 137, 58, 3, '[1]', 2);
    )sql");
  }
  const std::vector<std::string> tables = {"devices",      "agents",      "sweeps",
                                           "jobs",         "results",     "curve_points",
                                           "power",        "evaluations", "schedules"};
  std::map<std::string, int64_t> before;
  {
    Database db = open();
    for (const std::string& table : tables) before[table] = count(db, "SELECT count(*) FROM " + table);
  }
  const MigrationReport report = Store::migrate(path());
  EXPECT_EQ(report.from_version, 9);
  EXPECT_EQ(report.to_version, binary_schema_version());
  Database db = open();
  for (const std::string& table : tables) {
    EXPECT_EQ(count(db, "SELECT count(*) FROM " + table), before[table]) << table;
  }
  auto integrity = db.prepare("PRAGMA integrity_check");
  ASSERT_TRUE(integrity.step());
  EXPECT_EQ(integrity.column_text(0), "ok");
  EXPECT_EQ(count(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
  // The new views show the old rows, with their sweep; the old names still answer.
  EXPECT_EQ(count(db, "SELECT count(*) FROM curve_view WHERE sweep_id = 1"), 2);
  EXPECT_EQ(count(db, "SELECT count(*) FROM curve"), 2);
  EXPECT_EQ(count(db, "SELECT count(*) FROM schedule_view WHERE method = 'pomt:58' AND "
                      "abs(top1 - 0.85) < 1e-12"),
            1);
  EXPECT_EQ(count(db, "SELECT count(*) FROM accuracy_view WHERE method = 'pomt:58' AND "
                      "abs(top1_change_points + 5) < 1e-9"),
            1);
  EXPECT_EQ(count(db, "SELECT count(*) FROM accuracy_table"), 2);
  EXPECT_EQ(count(db, "SELECT count(*) FROM job_overview"), 4);
  // Their bodies ('{}') are not profiles this binary reads: no steps, counted.
  EXPECT_EQ(count(db, "SELECT count(*) FROM step_view"), 0);
  EXPECT_EQ(report.step_backfill.profiles, 0);
  EXPECT_EQ(report.step_backfill.unreadable, 1);
  EXPECT_THAT(report.step_backfill.first_error, HasSubstr("result 1:"));
}

// Migration 010 finds the steps of the profiles stored before it, from their
// bodies, in its own transaction; a later migrate finds nothing more to do.
TEST_F(MigrationsTest, ProfilesStoredBeforeVersionTenGetTheirStepsFromTheirBodies) {
  {
    Database db = open();
    apply_migrations(db, embedded_migrations().first(9));
    db.execute_script(R"sql(
      INSERT INTO devices (id, name, kind, simulated, first_seen, last_seen)
        VALUES (1, 'cpu-1', 'cpu', 0, 1, 1);
      INSERT INTO sweeps (id, name, spec, state, created_at, finished_at)
        VALUES (1, 'old', '{}', 'done', 1, 2);
      INSERT INTO jobs (id, sweep_id, kind, runner, device_id, spec, state, created_at, updated_at)
        VALUES (1, 1, 'profile', 'agent', 1, '{"model": "deit-tiny", "batches": [1]}', 'done', 1, 2),
               (2, 1, 'profile', 'agent', 1, '{"model": "deit-tiny", "batches": [1]}', 'done', 1, 2),
               (3, 1, 'profile', 'agent', 1, '{"model": "deit-tiny", "batches": [1]}', 'done', 1, 2);
    )sql");
    // One profile as stored, one whose curve the step rules refuse (two
    // points at one count: stored before results were checked for it), one
    // that is not a profile document at all.
    nlohmann::json twice = staircase_profile_body(96, 104, 100);
    twice["points"].push_back(twice["points"][0]);
    auto insert = db.prepare(
        "INSERT INTO results (id, job_id, device_id, received_at, body, body_sha256) "
        "VALUES (?1, ?1, 1, 2, ?2, printf('%064d', 0))");
    for (const auto& [id, body] :
         {std::pair{1, staircase_profile_body(96, 104, 100).dump()}, std::pair{2, twice.dump()},
          std::pair{3, std::string(R"({"model": 7})")}}) {
      insert.reset();
      insert.bind(1, id).bind(2, body);
      insert.execute();
    }
  }
  const MigrationReport report = Store::migrate(path());
  EXPECT_EQ(report.step_backfill.profiles, 1);
  EXPECT_EQ(report.step_backfill.steps, 1);
  EXPECT_EQ(report.step_backfill.unreadable, 2);
  EXPECT_THAT(report.step_backfill.first_error, HasSubstr("result 2: two latency points"));
  {
    Database db = open();
    auto step = db.prepare(
        "SELECT sweep_id, device, model, batch, tokens_below, tokens_above FROM step_view");
    ASSERT_TRUE(step.step());
    EXPECT_EQ(step.column_int64(0), 1);
    EXPECT_EQ(step.column_text(1), "cpu-1");
    EXPECT_EQ(step.column_text(2), "deit-tiny");
    EXPECT_EQ(step.column_int64(3), 1);
    EXPECT_EQ(step.column_int64(4), 100);
    EXPECT_EQ(step.column_int64(5), 101);
    EXPECT_FALSE(step.step());
  }
  const MigrationReport again = Store::migrate(path());
  EXPECT_EQ(again.step_backfill.profiles, 0);
  EXPECT_EQ(again.step_backfill.unreadable, 0);
  Database db = open();
  EXPECT_EQ(count(db, "SELECT count(*) FROM latency_steps"), 1);
}

TEST_F(MigrationsTest, ARepeatedRunChangesNothing) {
  Store::migrate(path());
  const MigrationReport again = Store::migrate(path());
  EXPECT_EQ(again.from_version, binary_schema_version());
  EXPECT_EQ(again.to_version, binary_schema_version());
}

TEST_F(MigrationsTest, AppliesOnlyThePendingMigrationsEachInOrder) {
  const std::array<Migration, 2> first = {Migration{1, "001_a.sql", "CREATE TABLE a (x INTEGER);"},
                                          Migration{2, "002_b.sql", "CREATE TABLE b (y INTEGER);"}};
  const std::array<Migration, 3> later = {first[0], first[1],
                                          Migration{3, "003_c.sql", "INSERT INTO a VALUES (1);"}};
  Database db = open();
  EXPECT_EQ(apply_migrations(db, first).to_version, 2);
  const MigrationReport report = apply_migrations(db, later);
  EXPECT_EQ(report.from_version, 2);
  EXPECT_EQ(report.to_version, 3);
  EXPECT_EQ(count(db, "SELECT count(*) FROM a"), 1);  // 003 ran once, 001 not again
}

TEST_F(MigrationsTest, RefusesADatabaseNewerThanTheBinaryNamingBothVersions) {
  Store::migrate(path());
  {
    Database db = open();
    db.execute_script("PRAGMA user_version = 99");
  }
  try {
    Store::migrate(path());
    FAIL() << "a newer database must be refused";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("99"));
    EXPECT_THAT(error.what(), HasSubstr(std::to_string(binary_schema_version())));
  }
  EXPECT_THROW(Store::open(path()), InputError);
  Database db = open();
  EXPECT_EQ(db.user_version(), 99);  // untouched
}

TEST_F(MigrationsTest, OpeningAnOldDatabaseAsksForMigrate) {
  { Database created = open(); }
  try {
    Store::open(path());
    FAIL() << "an unmigrated database must be refused";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("tailsweep db migrate"));
  }
}

TEST_F(MigrationsTest, AFailingMigrationLeavesTheDatabaseAtThePreviousVersion) {
  const std::array<Migration, 2> migrations = {
      Migration{1, "001_a.sql", "CREATE TABLE a (x INTEGER);"},
      Migration{2, "002_bad.sql", "CREATE TABLE b (y INTEGER); INSERT INTO nowhere VALUES (1);"}};
  Database db = open();
  EXPECT_THROW(apply_migrations(db, migrations), std::runtime_error);
  EXPECT_EQ(db.user_version(), 1);
  EXPECT_EQ(count(db, "SELECT count(*) FROM sqlite_master WHERE name = 'b'"), 0);
}

TEST_F(MigrationsTest, RefusesGapsInTheNumbering) {
  const std::array<Migration, 2> migrations = {
      Migration{1, "001_a.sql", "CREATE TABLE a (x INTEGER);"},
      Migration{3, "003_c.sql", "CREATE TABLE c (x INTEGER);"}};
  Database db = open();
  EXPECT_THROW(apply_migrations(db, migrations), std::logic_error);
  EXPECT_EQ(db.user_version(), 0);
}

}  // namespace
}  // namespace tailsweep::store
