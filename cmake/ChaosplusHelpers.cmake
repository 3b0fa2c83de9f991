# One library per module: chaosplus_<name>, built from the .cpp files in its folder, with the
# modules and packages it depends on named explicitly so the dependency graph stays visible.
function(chaosplus_compile_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
  if(CHAOSPLUS_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

function(chaosplus_module name)
  cmake_parse_arguments(ARG "" "" "DEPS;PRIVATE_DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  if(NOT sources)  # a module whose first file is still being written
    file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/empty.cpp "")
    set(sources ${CMAKE_CURRENT_BINARY_DIR}/empty.cpp)
  endif()
  add_library(chaosplus_${name} STATIC ${sources})
  target_include_directories(chaosplus_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(chaosplus_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  chaosplus_compile_options(chaosplus_${name})
endfunction()

# tests/unit/<module>/*.cpp -> one GoogleTest binary unit_<module>, each test registered with CTest.
# tests/integration/*.cpp -> one binary per file, integration_<name>, labelled "integration".
function(chaosplus_test name)
  cmake_parse_arguments(ARG "" "LABEL" "SOURCES;DEPS;PROPERTIES" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(${name} PRIVATE
    CHAOSPLUS_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    CHAOSPLUS_BIN_DIR="${CMAKE_RUNTIME_OUTPUT_DIRECTORY}")
  chaosplus_compile_options(${name})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${ARG_LABEL}" ${ARG_PROPERTIES})
endfunction()

# Compiles the file INPUT into TARGET as `std::string_view NAMESPACE::FUNCTION()`, declared in
# HEADER (cmake/embed_file.cmake): pages, scripts and chart code a binary carries, so it needs no
# file at run time.
function(chaosplus_embed_file target input header namespace function)
  set(output ${CMAKE_CURRENT_BINARY_DIR}/${function}.cpp)
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DINPUT=${input} -DOUTPUT=${output} -DHEADER=${header} -DNAMESPACE=${namespace}
            -DFUNCTION=${function} -P ${PROJECT_SOURCE_DIR}/cmake/embed_file.cmake
    DEPENDS ${input} ${PROJECT_SOURCE_DIR}/cmake/embed_file.cmake
    COMMENT "Embedding ${input}"
    VERBATIM)
  target_sources(${target} PRIVATE ${output})
endfunction()
