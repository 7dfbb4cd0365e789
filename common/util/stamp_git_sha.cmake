# Writes OUTPUT (a .cpp defining build_info::kGitSha) from the checkout's
# HEAD at build time, with "-dirty" when tracked files differ from it.
# OVERRIDE, when set (-DTAILSWEEP_GIT_SHA=...), is used as it is: for a
# copied tree that is not a git checkout. The file is rewritten only when
# its text changes, so a build without a new commit recompiles nothing.
if(OVERRIDE)
  set(sha "${OVERRIDE}")
else()
  execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY "${SOURCE_DIR}"
    OUTPUT_VARIABLE sha OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE failed)
  if(failed OR NOT sha)
    set(sha "unknown")
  else()
    execute_process(COMMAND git status --porcelain --untracked-files=no
      WORKING_DIRECTORY "${SOURCE_DIR}" OUTPUT_VARIABLE changes ERROR_QUIET)
    if(changes)
      string(APPEND sha "-dirty")
    endif()
  endif()
endif()
set(text "// Generated at build time by common/util/stamp_git_sha.cmake.\n#include \"tailsweep/build_info.h\"\n\nnamespace tailsweep::build_info {\nconst char* const kGitSha = \"${sha}\";\n}  // namespace tailsweep::build_info\n")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUTPUT}" "${text}")
endif()
