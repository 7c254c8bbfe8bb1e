// Lets the binary find libtorch at run time (an rpath to its lib folder).
fn main() {
    seqlab_build::link_libtorch();
}
