// Linux epoll, which Glibc's module map leaves out, exposed to Swift as the CEpoll module.
#include <sys/epoll.h>
