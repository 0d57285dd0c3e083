//! Drive a realistic HTTP load from seeded users; one Event per request
