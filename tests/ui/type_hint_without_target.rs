// The short form of the type hint needs the target the manager lends.
fn takes(_: contextlib::AsyncContextManager![]) {}

fn main() {}
