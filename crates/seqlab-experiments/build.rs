fn main() {
    seqlab_build::link_libtorch();
}
