# defer.cmake: for a build directory of one's own before the root
# CMakeLists.txt includes web.cmake:
#   cmake -S . -B build-x -DCMAKE_PROJECT_INCLUDE=$PWD/supervisor/dash/web/defer.cmake
# It includes web.cmake once the root CMakeLists.txt has defined its targets.
set(KILN_WEB_CMAKE ${CMAKE_CURRENT_LIST_DIR}/web.cmake)
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL include ${KILN_WEB_CMAKE})
