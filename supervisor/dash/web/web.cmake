# web.cmake: compiles the dashboard's page (supervisor/dash/web/*.html, *.css,
# *.js) into the kiln binary as C arrays, so an installed kiln needs no files
# beside it. Included once from the root CMakeLists.txt after the
# kiln_supervisor target exists:
#   include(${CMAKE_SOURCE_DIR}/supervisor/dash/web/web.cmake)
include_guard(GLOBAL)

set(KILN_WEB_DIR ${CMAKE_CURRENT_LIST_DIR})
file(GLOB KILN_WEB_FILES CONFIGURE_DEPENDS
  ${KILN_WEB_DIR}/*.html ${KILN_WEB_DIR}/*.css ${KILN_WEB_DIR}/*.js ${KILN_WEB_DIR}/*.svg)
set(KILN_WEB_C ${CMAKE_BINARY_DIR}/generated/dash_web.c)

add_custom_command(
  OUTPUT ${KILN_WEB_C}
  COMMAND ${CMAKE_COMMAND} -DOUT=${KILN_WEB_C} "-DFILES=${KILN_WEB_FILES}"
          -P ${KILN_WEB_DIR}/embed.cmake
  DEPENDS ${KILN_WEB_FILES} ${KILN_WEB_DIR}/embed.cmake
  COMMENT "Embedding the dashboard's page"
  VERBATIM)

target_sources(kiln_supervisor PRIVATE ${KILN_WEB_C})
target_compile_definitions(kiln_supervisor PRIVATE KILN_DASH_WEB=1)
