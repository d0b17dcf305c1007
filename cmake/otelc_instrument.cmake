# What every instrumentation library's CMakeLists.txt shares, so that each
# one only finds its dependency and names it:
#
#   otelc_instrument(<name> SOURCES <file>... LIBS <target>... PC_REQUIRES <module>
#                    [SERVER_TEST])
#
# builds libotelc-<name> (shared, linking otelc; soname from the project's
# major version like libotelc's) and its static form (linking otelc_static,
# for tests: one SDK copy), installs both with otelc-<name>.pc (requiring
# otelc and the pkg-config module PC_REQUIRES of what it instruments, whose
# header otelc/instrument/<name>.h includes), and builds
# examples/instrument_<name>/main.c and tests/unit/test_instrument_<name>.c
# when they exist. The test is registered with CTest unless SERVER_TEST says
# that a tests/integration/*.sh script runs it against a server it starts;
# the caller then calls enable_testing() first (it sets a variable, which a
# function cannot do for its caller, and the top level enables testing only
# after adding instrument/*).
#
# The same sources are compiled once more, with OTELC_AUTO and the shim
# instrument/auto/shim_<name>.c, into an object library that
# instrument/auto/CMakeLists.txt links into libotelc-auto (the preload
# library, see instrument/real_call.h): the instrumented library's headers
# are used, its library is not linked.
include_guard(GLOBAL)

function(otelc_instrument name)
  cmake_parse_arguments(I "SERVER_TEST" "PC_REQUIRES" "SOURCES;LIBS" ${ARGN})
  set(lib otelc-${name})
  add_library(${lib} SHARED ${I_SOURCES})
  target_link_libraries(${lib} PUBLIC otelc ${I_LIBS})
  set_target_properties(${lib} PROPERTIES VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR})
  add_library(${lib}_static STATIC ${I_SOURCES})
  target_link_libraries(${lib}_static PUBLIC otelc_static ${I_LIBS})
  # instrument/conn_state.h and the like: shared source, private to the libraries.
  # and src/ for libotelc's private ABI (src/instrumentation/server_span.h).
  target_include_directories(${lib} PRIVATE ${PROJECT_SOURCE_DIR}/instrument ${PROJECT_SOURCE_DIR}/src)
  target_include_directories(${lib}_static PRIVATE ${PROJECT_SOURCE_DIR}/instrument
    ${PROJECT_SOURCE_DIR}/src)
  set_target_properties(${lib}_static PROPERTIES OUTPUT_NAME ${lib})
  install(TARGETS ${lib} ${lib}_static
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  set(shim ${PROJECT_SOURCE_DIR}/instrument/auto/shim_${name}.c)
  if(EXISTS ${shim})
    add_library(${lib}_auto OBJECT ${I_SOURCES} ${shim})
    target_compile_definitions(${lib}_auto PRIVATE OTELC_AUTO)
    set_target_properties(${lib}_auto PROPERTIES POSITION_INDEPENDENT_CODE ON
      C_VISIBILITY_PRESET hidden)
    target_include_directories(${lib}_auto PRIVATE ${PROJECT_SOURCE_DIR}/instrument
      ${PROJECT_SOURCE_DIR}/instrument/auto ${PROJECT_SOURCE_DIR}/src ${CMAKE_CURRENT_SOURCE_DIR})
    # Compile-time usage requirements only: object files link nothing.
    target_link_libraries(${lib}_auto PRIVATE otelc ${I_LIBS})
    set_property(GLOBAL APPEND PROPERTY OTELC_AUTO_PARTS ${lib}_auto)
  endif()

  set(OTELC_PC_NAME ${name})
  set(OTELC_PC_INSTRUMENTED ${I_PC_REQUIRES})
  configure_file(${PROJECT_SOURCE_DIR}/cmake/otelc-instrument.pc.in
    ${PROJECT_BINARY_DIR}/otelc-${name}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/otelc-${name}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

  set(example ${PROJECT_SOURCE_DIR}/examples/instrument_${name}/main.c)
  if(OTELC_BUILD_EXAMPLES AND EXISTS ${example})
    add_executable(example_instrument_${name} ${example})
    target_link_libraries(example_instrument_${name} PRIVATE ${lib})
    set_target_properties(example_instrument_${name} PROPERTIES
      RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR})
  endif()

  set(test ${PROJECT_SOURCE_DIR}/tests/unit/test_instrument_${name}.c)
  if(OTELC_BUILD_TESTS AND EXISTS ${test})
    # The top level looks cmocka up after adding instrument/*.
    find_library(CMOCKA_LIB cmocka REQUIRED)
    add_executable(test_instrument_${name} ${test})
    target_include_directories(test_instrument_${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests
      ${PROJECT_SOURCE_DIR}/instrument)
    target_link_libraries(test_instrument_${name} PRIVATE ${lib}_static ${CMOCKA_LIB})
    set_target_properties(test_instrument_${name} PROPERTIES
      RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR})
    if(NOT I_SERVER_TEST)
      add_test(NAME test_instrument_${name} COMMAND test_instrument_${name})
      set_tests_properties(test_instrument_${name} PROPERTIES TIMEOUT 120)
    endif()
  endif()
endfunction()
