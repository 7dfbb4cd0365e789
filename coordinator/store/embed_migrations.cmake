# Run at build time (cmake -P): writes OUTPUT, a C++ file holding every
# SCHEMA_DIR/NNN_name.sql as a raw string literal, in numeric order, so the
# binary carries its schema and works from any folder.
if(NOT SCHEMA_DIR OR NOT OUTPUT)
  message(FATAL_ERROR "embed_migrations.cmake needs -DSCHEMA_DIR=... -DOUTPUT=...")
endif()

file(GLOB migration_files RELATIVE ${SCHEMA_DIR} ${SCHEMA_DIR}/[0-9][0-9][0-9]_*.sql)
list(SORT migration_files)

set(delimiter "tailsweep_sql")
set(entries "")
set(expected 1)
foreach(file_name IN LISTS migration_files)
  string(SUBSTRING ${file_name} 0 3 number_text)
  math(EXPR number "${number_text}")
  if(NOT number EQUAL expected)
    message(FATAL_ERROR "schema/${file_name}: expected migration number ${expected}; "
                        "migrations are numbered 001, 002, ... without gaps or repeats")
  endif()
  math(EXPR expected "${expected} + 1")
  file(READ ${SCHEMA_DIR}/${file_name} sql)
  string(FIND "${sql}" ")${delimiter}\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "schema/${file_name} contains the raw-string delimiter ${delimiter}")
  endif()
  string(APPEND entries
    "    {${number}, \"${file_name}\", R\"${delimiter}(${sql})${delimiter}\"},\n")
endforeach()

if(entries STREQUAL "")
  message(FATAL_ERROR "no migrations (NNN_name.sql) found in ${SCHEMA_DIR}")
endif()

set(content "// Generated from schema/*.sql by coordinator/store/embed_migrations.cmake.
// Do not edit: edit (or, once shipped, add to) the .sql files.
#include \"coordinator/store/migrations.h\"

namespace tailsweep::store {

std::span<const Migration> embedded_migrations() {
  static constexpr Migration kMigrations[] = {
${entries}  };
  return kMigrations;
}

}  // namespace tailsweep::store
")

file(WRITE ${OUTPUT} "${content}")
