"""Realistic student answers to Exercise 2 (the Keras model), wrong and correct.

Each builder returns what a student's graded cell would leave in ``model``;
wrong ones are registered with a distinctive piece of the message that
``test_model(model, 10, 400)`` must give. Builders import TensorFlow lazily, after
``utils`` (which the test module imports first), so TensorFlow stays quiet.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

#: (builder, piece of the expected failure message)
WRONG: list[tuple[Callable[[], Any], str]] = []
#: builders whose model must pass
CORRECT: list[Callable[[], Any]] = []
#: builders made to pass the public test only (special cases): the hidden test must reject them
PUBLIC_ONLY: list[Callable[[], Any]] = []


def wrong(match: str) -> Callable[[Callable], Callable]:
    def register(builder: Callable) -> Callable:
        WRONG.append((builder, match))
        return builder

    return register


def correct(builder: Callable) -> Callable:
    CORRECT.append(builder)
    return builder


def public_only(builder: Callable) -> Callable:
    PUBLIC_ONLY.append(builder)
    return builder


def _tf():
    import tensorflow as tf

    return tf


def _lab(tf, *, first=None, l1="relu", l2="relu", l3="linear", units=(25, 15, 10)):
    """The lab's layout with one thing changed."""
    Dense = tf.keras.layers.Dense
    layers = [tf.keras.Input(shape=(400,))] if first is None else list(first)
    layers += [
        Dense(units[0], activation=l1, name="L1"),
        Dense(units[1], activation=l2, name="L2"),
        Dense(units[2], activation=l3, name="L3"),
    ]
    return tf.keras.Sequential(layers, name="my_model")


# ---------------------------------------------------------------- wrong answers
@wrong("Layer 3 (L3) has a softmax activation")
def softmax_output():
    return _lab(_tf(), l3="softmax")


@wrong("Softmax placement")
def tf_nn_softmax_output():
    tf = _tf()
    return _lab(tf, l3=tf.nn.softmax)


@wrong("Layer 4 (probabilities) is an extra Softmax layer")
def extra_softmax_layer():
    tf = _tf()
    model = _lab(tf)
    model.add(tf.keras.layers.Softmax(name="probabilities"))
    return model


@wrong("is an extra Softmax layer")
def extra_softmax_activation_layer():
    tf = _tf()
    model = _lab(tf)
    model.add(tf.keras.layers.Activation("softmax"))
    return model


@wrong("The hidden layers are swapped")
def swapped_hidden_units():
    return _lab(_tf(), units=(15, 25, 10))


@wrong("The hidden layers have 25, 15 units")
def wrong_hidden_units():
    return _lab(_tf(), units=(30, 15, 10))


@wrong("one unit per class: 10 units (one per digit), not 1.")
def one_output_unit():
    return _lab(_tf(), units=(25, 15, 1))


@wrong("has 2 layers and is missing a layer")
def missing_layer():
    tf = _tf()
    Dense = tf.keras.layers.Dense
    return tf.keras.Sequential(
        [tf.keras.Input(shape=(400,)), Dense(25, activation="relu"), Dense(10, activation="linear")]
    )


@wrong("has 4 layers and has a layer too many")
def extra_dense_layer():
    tf = _tf()
    model = _lab(tf)
    model.add(tf.keras.layers.Dense(10, activation="linear"))
    return model


@wrong("Hidden layer 1 (L1) has a sigmoid activation")
def sigmoid_hidden_layers():
    return _lab(_tf(), l1="sigmoid", l2="sigmoid")


@wrong("Hidden layer 2 (L2) has no activation (linear)")
def forgot_second_relu():
    tf = _tf()
    Dense = tf.keras.layers.Dense
    return tf.keras.Sequential(
        [tf.keras.Input(shape=(400,)), Dense(25, activation="relu", name="L1"),
         Dense(15, name="L2"), Dense(10, name="L3")]
    )


@wrong("has a leaky_relu activation")
def leaky_relu_hidden():
    return _lab(_tf(), l1="leaky_relu")


@wrong("The output layer (L3) has a relu activation")
def relu_output():
    return _lab(_tf(), l3="relu")


@wrong("The output layer (L3) has a sigmoid activation")
def sigmoid_output():
    return _lab(_tf(), l3="sigmoid")


@wrong("expects inputs of shape (401,)")
def wrong_input_size():
    tf = _tf()
    return _lab(tf, first=[tf.keras.Input(shape=(401,))])


@wrong("expects inputs of shape (20, 20)")
def image_shaped_input():
    tf = _tf()
    return _lab(tf, first=[tf.keras.Input(shape=(20, 20))])


@wrong("is a Flatten layer")
def flatten_first():
    tf = _tf()
    return _lab(tf, first=[tf.keras.Input(shape=(400,)), tf.keras.layers.Flatten()])


@wrong("is a Dropout layer")
def dropout_between():
    tf = _tf()
    Dense = tf.keras.layers.Dense
    return tf.keras.Sequential(
        [tf.keras.Input(shape=(400,)), Dense(25, activation="relu"), tf.keras.layers.Dropout(0.2),
         Dense(15, activation="relu"), Dense(10)]
    )


@wrong("use_bias=False")
def no_biases():
    tf = _tf()
    Dense = tf.keras.layers.Dense
    return tf.keras.Sequential(
        [tf.keras.Input(shape=(400,)), Dense(25, activation="relu", use_bias=False),
         Dense(15, activation="relu", use_bias=False), Dense(10, use_bias=False)]
    )


@wrong("has no layers")
def empty_sequential():
    return _tf().keras.Sequential([], name="my_model")


@wrong("has no layers")
def only_an_input():
    tf = _tf()
    return tf.keras.Sequential([tf.keras.Input(shape=(400,))], name="my_model")


@wrong("wrap the layers in Sequential")
def list_of_layers():
    tf = _tf()
    Dense = tf.keras.layers.Dense
    return [Dense(25, activation="relu"), Dense(15, activation="relu"), Dense(10)]


@wrong("received the class Sequential")
def the_sequential_class():
    return _tf().keras.Sequential


@wrong("single Dense layer")
def a_single_layer():
    return _tf().keras.layers.Dense(10)


@wrong("expects your Keras model")
def nothing():
    return None


# ---------------------------------------------------------------- correct answers
@correct
def lab_answer():
    return _lab(_tf())


@correct
def without_input():
    tf = _tf()
    Dense = tf.keras.layers.Dense
    return tf.keras.Sequential(
        [Dense(25, activation="relu", name="L1"), Dense(15, activation="relu", name="L2"),
         Dense(10, activation="linear", name="L3")], name="my_model"
    )


@correct
def tf_nn_relu_and_no_output_activation():
    tf = _tf()
    return _lab(tf, l1=tf.nn.relu, l2=tf.nn.relu, l3=None)


@correct
def keras_activation_functions():
    tf = _tf()
    acts = tf.keras.activations
    return _lab(tf, l1=acts.relu, l2=acts.relu, l3=acts.linear)


@correct
def imported_relu_and_linear():
    tf = _tf()
    from tensorflow.keras.activations import linear, relu

    return _lab(tf, l1=relu, l2=relu, l3=linear)


@correct
def input_shape_argument():
    # Keras 3 still accepts input_shape= on the first layer (with a UserWarning at creation)
    tf = _tf()
    Dense = tf.keras.layers.Dense
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Keras: "Do not pass an `input_shape`..."
        first = Dense(25, activation="relu", input_shape=(400,))
    return tf.keras.Sequential([first, Dense(15, activation="relu"), Dense(10, activation="linear")])


@correct
def relu_layer_objects_as_activations():
    tf = _tf()
    return _lab(tf, l1=tf.keras.layers.ReLU(), l2=tf.keras.layers.ReLU())


@correct
def input_layer_object():
    tf = _tf()
    return _lab(tf, first=[tf.keras.layers.InputLayer(shape=(400,))])


@correct
def built_by_hand():
    tf = _tf()
    Dense = tf.keras.layers.Dense
    model = tf.keras.Sequential([Dense(25, activation="relu"), Dense(15, activation="relu"), Dense(10)])
    model.build((None, 400))
    return model


@correct
def added_one_by_one():
    tf = _tf()
    model = tf.keras.Sequential(name="my_model")
    model.add(tf.keras.Input(shape=(400,)))
    model.add(tf.keras.layers.Dense(25, activation="relu"))
    model.add(tf.keras.layers.Dense(15, activation="relu"))
    model.add(tf.keras.layers.Dense(10))
    return model


@wrong("this exercise builds it with Sequential([...])")
def functional_api():
    tf = _tf()
    Dense = tf.keras.layers.Dense
    inputs = tf.keras.Input(shape=(400,))
    x = Dense(25, activation="relu")(inputs)
    x = Dense(15, activation="relu")(x)
    outputs = Dense(10, activation="linear")(x)
    return tf.keras.Model(inputs, outputs, name="my_model")


# Layer and model names are not part of the exercise: Keras' default names are fine.
@correct
def default_layer_names():
    # a student who leaves out every name= (this scored 0 at autograde before issue 10)
    tf = _tf()
    Dense = tf.keras.layers.Dense
    return tf.keras.Sequential([tf.keras.Input(shape=(400,)), Dense(25, activation=tf.nn.relu),
                                Dense(15, activation=tf.nn.relu), Dense(10)], name="my_model")


@correct
def no_model_name():
    tf = _tf()
    Dense = tf.keras.layers.Dense
    return tf.keras.Sequential([tf.keras.Input(shape=(400,)), Dense(25, activation="relu"),
                                Dense(15, activation="relu"), Dense(10, activation="linear")])


@correct
def own_layer_names():
    tf = _tf()
    Dense = tf.keras.layers.Dense
    return tf.keras.Sequential([tf.keras.Input(shape=(400,)), Dense(25, activation="relu", name="hidden_1"),
                                Dense(15, activation="relu", name="hidden_2"),
                                Dense(10, name="logits")], name="digits")


@correct
def honest_dense_subclass():
    tf = _tf()

    class MyDense(tf.keras.layers.Dense):
        """A Dense layer under another class name, computing exactly what Dense computes."""

    return tf.keras.Sequential([tf.keras.Input(shape=(400,)), MyDense(25, activation="relu"),
                                MyDense(15, activation="relu"), MyDense(10)], name="my_model")


# ---------------------------------------------------------------- made for the public test only
@public_only
def dense_that_lies_about_its_output():
    # every attribute the public test looks at is right, but the last layer's call adds a
    # softmax: predict does not return logits. Only a forward pass on new inputs shows it.
    tf = _tf()

    class SneakyDense(tf.keras.layers.Dense):
        def call(self, inputs):
            return tf.nn.softmax(super().call(inputs))

    Dense = tf.keras.layers.Dense
    return tf.keras.Sequential([tf.keras.Input(shape=(400,)), Dense(25, activation="relu", name="L1"),
                                Dense(15, activation="relu", name="L2"), SneakyDense(10, name="L3")],
                               name="my_model")
